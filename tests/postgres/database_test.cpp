// The PostgreSQL backend's own behaviour, against the test server: its schema, secrets at
// rest, errors, and several Database objects on one schema, as several replicas would be.
#include "postgres/test_server.hpp"
#include "support/error_of.hpp"
#include "support/log_capture.hpp"

#include <herald/error.hpp>
#include <herald/postgres/database.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <future>
#include <limits>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using herald::test::fresh_schema;
using herald::test::postgres_conninfo;
using herald::test::raw_query;

namespace {

const herald::Timestamp t0{std::chrono::hours{1000}};

herald::Delivery delivery(std::string id, herald::Timestamp due) {
    herald::Delivery d;
    d.firing.id = std::move(id);
    d.firing.automation_id = "a1";
    d.action = herald::action::Webhook{.integration = "deploy", .payload = "{}"};
    d.due = due;
    return d;
}

std::shared_ptr<herald::postgres::Database> open_schema(const std::string& schema) {
    return herald::postgres::open(postgres_conninfo(), {.schema = schema});
}

}  // namespace

TEST_CASE("open creates the schema at this version and reopens it with its data", "[postgres]") {
    const std::string schema = fresh_schema();
    {
        auto db = open_schema(schema);
        const herald::Delivery d = delivery("kept", t0);
        db->outbox().enqueue({&d, 1});
    }
    CHECK(raw_query("SELECT version FROM " + schema + ".herald_schema") ==
          std::vector<std::string>{std::to_string(herald::postgres::schema_version)});
    auto again = open_schema(schema);
    CHECK(again->outbox().pending_count() == 1);
    CHECK(again->schema() == schema);
}

TEST_CASE("a schema written by a newer herald is refused, naming both versions", "[postgres]") {
    const std::string schema = fresh_schema();
    open_schema(schema);
    raw_query("UPDATE " + schema + ".herald_schema SET version = 99");
    const herald::Error e = herald::test::error_of([&] { open_schema(schema); });
    CHECK(e.code() == herald::errc::storage_failure);
    CHECK_THAT(e.reason(), Catch::Contains("version 99") && Catch::Contains("newer"));
}

TEST_CASE("schemas keep herald's tables apart", "[postgres]") {
    auto a = open_schema(fresh_schema());
    auto b = open_schema(fresh_schema());
    const herald::Delivery d = delivery("only-in-a", t0);
    a->outbox().enqueue({&d, 1});
    CHECK(a->outbox().pending_count() == 1);
    CHECK(b->outbox().pending_count() == 0);

    const herald::Error bad = herald::test::error_of([&] { open_schema("Robert'); DROP"); });
    CHECK(bad.code() == herald::errc::invalid_argument);
    CHECK(bad.field() == "schema");
}

TEST_CASE("a connection that fails names the server's reason, never the password", "[postgres]") {
    const herald::Error e = herald::test::error_of([] {
        herald::postgres::open("host=/nonexistent-herald-dir user=x password=hunter2-secret");
    });
    CHECK(e.code() == herald::errc::storage_failure);
    CHECK_THAT(e.reason(), Catch::Contains("cannot connect"));
    CHECK_THAT(std::string(e.what()), !Catch::Contains("hunter2"));
}

TEST_CASE("secret values are encrypted at rest", "[postgres][secrets]") {
    const std::string schema = fresh_schema();
    auto db = open_schema(schema);
    const std::array<unsigned char, herald::EncryptionKey::size> bytes{7, 7, 7};
    auto keys = std::make_shared<herald::StaticKeyProvider>(herald::EncryptionKey(bytes));
    auto secrets = db->secrets(keys);
    const std::string value = "canary-value-1b2c3d";
    secrets->put("acme", "TOKEN", {.value = herald::SecretValue(value)});

    const auto rows = raw_query("SELECT t::text FROM " + schema + ".secrets t");
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].find(value) == std::string::npos);
    const auto hex = raw_query("SELECT encode(ciphertext, 'escape') FROM " + schema + ".secrets");
    CHECK(hex[0].find(value) == std::string::npos);
    REQUIRE(secrets->get("acme", "TOKEN"));
    CHECK(secrets->get("acme", "TOKEN")->value.reveal() == value);
    CHECK(secrets->names("acme") == std::vector<std::string>{"TOKEN"});

    // Another key cannot read them: refused when the store is made.
    const std::array<unsigned char, herald::EncryptionKey::size> other{9};
    const herald::Error e = herald::test::error_of([&] {
        db->secrets(std::make_shared<herald::StaticKeyProvider>(herald::EncryptionKey(other)));
    });
    CHECK(e.field() == "key");
    CHECK_THAT(std::string(e.what()), !Catch::Contains(value));
}

TEST_CASE("two databases claiming one outbox concurrently never take the same delivery",
          "[postgres][outbox]") {
    const std::string schema = fresh_schema();
    auto a = open_schema(schema);
    auto b = open_schema(schema);
    std::vector<herald::Delivery> ds;
    for (int i = 0; i < 300; ++i)
        ds.push_back(delivery("d" + std::to_string(i), t0 + std::chrono::milliseconds{i % 7}));
    a->outbox().enqueue(ds);

    std::vector<std::string> by_a, by_b;
    auto drain = [](herald::Storage& s, std::vector<std::string>& ids) {
        for (;;) {
            auto claimed = s.outbox().claim(t0 + 1s, 7, t0 + 1h);
            if (claimed.empty())
                return;
            for (const herald::Delivery& d : claimed)
                ids.push_back(d.firing.id);
        }
    };
    std::thread other([&] { drain(*b, by_b); });
    drain(*a, by_a);
    other.join();

    std::set<std::string> all(by_a.begin(), by_a.end());
    for (const std::string& id : by_b)
        CHECK(all.insert(id).second);  // no delivery claimed by both
    CHECK(all.size() == ds.size());
    CHECK(by_a.size() + by_b.size() == ds.size());
}

TEST_CASE("a lease that ends makes the delivery claimable by another database",
          "[postgres][outbox]") {
    const std::string schema = fresh_schema();
    auto a = open_schema(schema);
    auto b = open_schema(schema);
    const herald::Delivery d = delivery("leased", t0);
    a->outbox().enqueue({&d, 1});
    REQUIRE(a->outbox().claim(t0, 10, t0 + 30s).size() == 1);
    CHECK(b->outbox().claim(t0 + 29s, 10, t0 + 2min).empty());
    const auto taken = b->outbox().claim(t0 + 30s, 10, t0 + 2min);
    REQUIRE(taken.size() == 1);
    CHECK(taken[0].firing.id == "leased");
    CHECK(a->outbox().claim(t0 + 1min, 10, t0 + 5min).empty());
}

TEST_CASE("the asynchronous calls run on the workers and report their errors", "[postgres]") {
    auto db = open_schema(fresh_schema());
    const herald::Delivery d = delivery("async", t0);
    db->outbox().enqueue({&d, 1});
    std::promise<herald::ClaimResult> claimed;
    db->claim_async(t0, 10, t0 + 1min, [&](std::exception_ptr error, herald::ClaimResult r) {
        if (error)
            claimed.set_exception(error);
        else
            claimed.set_value(std::move(r));
    });
    const herald::ClaimResult result = claimed.get_future().get();
    REQUIRE(result.deliveries.size() == 1);
    CHECK(result.next_due == t0 + 1min);

    // A firing recorded twice fails inside the worker's transaction; the error comes back.
    herald::Firing f;
    f.id = "async";
    f.automation_id = "a1";
    // The error is moved into the promise: set_exception would keep a copy on the worker past
    // the wake-up, and libstdc++ counts that reference out of ThreadSanitizer's sight.
    std::promise<std::exception_ptr> recorded;
    db->record_publish_async({.firings = {&f, 1}}, [&](std::exception_ptr error) {
        recorded.set_value(std::move(error));
    });
    const std::exception_ptr error = recorded.get_future().get();
    REQUIRE(error);
    const herald::Error e = herald::test::error_of([&] { std::rethrow_exception(error); });
    CHECK(e.code() == herald::errc::already_exists);
}

TEST_CASE("asynchronous writes committed together fail alone", "[postgres]") {
    auto db = open_schema(fresh_schema());
    herald::Firing taken;
    taken.id = "taken";
    taken.automation_id = "a1";
    db->history().append({&taken, 1});

    // Queued at once, so they share transactions; the one whose id is taken fails by itself.
    constexpr int count = 60;
    std::vector<herald::Firing> firings(count);
    std::vector<std::promise<std::exception_ptr>> results(count);
    for (int i = 0; i < count; ++i) {
        firings[i].id = i == count / 2 ? "taken" : "f" + std::to_string(i);
        firings[i].automation_id = "a1";
    }
    for (int i = 0; i < count; ++i)
        db->record_publish_async(
            {.firings = {&firings[i], 1}},
            [&results, i](std::exception_ptr error) { results[i].set_value(std::move(error)); });
    int failed = 0;
    for (int i = 0; i < count; ++i)
        if (results[i].get_future().get()) {
            ++failed;
            CHECK(i == count / 2);
        }
    CHECK(failed == 1);
    herald::HistoryQuery all;
    all.limit = 1000;
    CHECK(db->history().query(all).size() == count);  // the 59 new ones and the first "taken"
}

TEST_CASE("metric values keep every bit through the server, non-finite ones too", "[postgres]") {
    auto db = open_schema(fresh_schema());
    const double values[] = {0.1,
                             1e-300,
                             -2.5e300,
                             std::numeric_limits<double>::infinity(),
                             -std::numeric_limits<double>::infinity(),
                             std::numeric_limits<double>::quiet_NaN()};
    db->trigger_state().append_values({.automation_id = "a1", .run_id = "r1"}, values, 3, 10);
    const auto state = db->trigger_state().load({.automation_id = "a1", .run_id = "r1"});
    REQUIRE(state);
    REQUIRE(state->values.size() == 6);
    for (std::size_t i = 0; i < 5; ++i)
        CHECK(state->values[i] == values[i]);
    CHECK(std::isnan(state->values[5]));
    CHECK(state->last_step == 3);
}

TEST_CASE("group commits are counted, slow ones and failed batches logged", "[postgres]") {
    herald::test::LogCapture logs;
    auto metrics = std::make_shared<herald::Metrics>();
    auto db = herald::postgres::open(postgres_conninfo(), {.schema = fresh_schema(),
                                                           .logger = logs.logger(),
                                                           .metrics = metrics,
                                                           .slow_write = 0ms});  // every one
    constexpr int count = 20;
    std::vector<herald::Firing> firings(count);
    std::vector<std::promise<std::exception_ptr>> done(count);
    for (int i = 0; i < count; ++i) {
        firings[i].id = "f" + std::to_string(i);
        firings[i].automation_id = "a1";
        db->record_publish_async(
            {.firings = {&firings[i], 1}},
            [&done, i](std::exception_ptr error) { done[i].set_value(std::move(error)); });
    }
    for (auto& d : done)
        CHECK_FALSE(d.get_future().get());
    const herald::MetricsSnapshot snapshot = metrics->snapshot();
    const herald::MetricFamily* batches = snapshot.find("herald_group_commit_writes");
    REQUIRE(batches);
    REQUIRE(batches->samples.size() == 1);
    CHECK(batches->samples[0].histogram.sum == count);  // every write, in however many batches
    const auto stalled = logs.of("postgres.commit_stalled");
    REQUIRE_FALSE(stalled.empty());
    CHECK(stalled[0].level == herald::LogLevel::warning);
    CHECK(stalled[0].fields.contains("duration_ms"));

    // A batch of one whose write fails loses its transaction: logged with the reason.
    std::promise<std::exception_ptr> again;
    db->record_publish_async({.firings = {&firings[0], 1}},
                             [&](std::exception_ptr error) { again.set_value(std::move(error)); });
    CHECK(again.get_future().get());
    const auto failed = logs.of("postgres.batch_failed");
    REQUIRE(failed.size() == 1);
    CHECK(failed[0].level == herald::LogLevel::error);
    CHECK(failed[0].fields.at("writes") == "1");
    CHECK(failed[0].fields.at("reason").find("already") != std::string::npos);
}
