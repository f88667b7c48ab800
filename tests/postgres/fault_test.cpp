// The PostgreSQL backend when the server fails in the middle of the work: its connections
// killed with pg_terminate_backend — while idle, in the middle of a group commit, a claim, a
// settlement, a trigger-state write or a prune, and at random while writers publish and a
// dispatcher delivers to a real receiver on loopback — and a server of the test's own stopped
// (as a crash would) and started again under a running engine. Each time the caller hears a
// clear error (or the dispatcher's on_storage_error), nothing committed is lost, nothing is
// half-written, and the work goes on by itself, on new connections, once the server is back.
//
// herald's connections are found in pg_stat_activity by an application_name of the test's own
// in the conninfo: the other tests share the fixture's server.
#include "postgres/private_server.hpp"
#include "postgres/replica.hpp"
#include "postgres/test_server.hpp"
#include "support/error_of.hpp"
#include "support/event_builders.hpp"
#include "support/fault_checks.hpp"
#include "support/test_server.hpp"

#include <herald/engine.hpp>
#include <herald/postgres/database.hpp>

#include <boost/json/parse.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace herald;
using namespace std::chrono_literals;
using herald::test::error_of;
using herald::test::history_ids;
using herald::test::pending_firing;
using herald::test::RawConnection;
using herald::test::soon;

namespace {

const Timestamp t0{std::chrono::hours{1000}};

/// What the server says to a connection pg_terminate_backend ends.
constexpr const char* terminated = "terminating connection due to administrator command";

/// The herald::Error in `error`; fails the test when there is none.
Error error_in(const std::exception_ptr& error) {
    return error_of([&] {
        if (error)
            std::rethrow_exception(error);
    });
}

/// A schema of the fixture's server whose herald connections carry a name of their own.
struct NamedSchema {
    const std::string schema = test::fresh_schema();
    const std::string name = "herald_fault_" + schema;
    const std::string conninfo = test::postgres_conninfo() + " application_name=" + name;

    std::shared_ptr<postgres::Database> open(std::size_t connections = 2) const {
        return postgres::open(conninfo,
                              {.schema = schema, .connections = connections, .workers = 1});
    }
    /// Terminates the connections named so for which `condition` (SQL on pg_stat_activity)
    /// holds; how many it found.
    std::size_t terminate(RawConnection& admin, const std::string& condition = "true") const {
        return admin
            .query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                "application_name = '" +
                name + "' AND " + condition)
            .size();
    }
    /// How many connections named so the server has.
    std::size_t connections(RawConnection& admin) const {
        return std::stoul(admin.query(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = '" + name + "'")[0]);
    }
};

/// Runs `call` while `table` is locked against it, terminating each of its connections that
/// waits for the lock until `call` returns; what `call` threw. So the connection is killed in
/// the middle of the transaction, after what it wrote before it reached `table`.
std::exception_ptr killed_at(const NamedSchema& s, const std::string& table,
                             const std::function<void()>& call) {
    RawConnection holder, admin;
    holder.query("BEGIN; LOCK TABLE " + s.schema + "." + table + " IN ACCESS EXCLUSIVE MODE");
    std::exception_ptr error;
    std::atomic<bool> returned = false;
    std::thread caller([&] {
        try {
            call();
        } catch (...) {
            error = std::current_exception();
        }
        returned = true;
    });
    while (!returned) {
        s.terminate(admin, "wait_event_type = 'Lock'");
        std::this_thread::sleep_for(5ms);
    }
    caller.join();
    holder.query("ROLLBACK");
    return error;
}

/// One firing with its delivery, due at t0.
void record(postgres::Database& db, const std::string& id) {
    const Firing f = pending_firing(id, t0);
    const NewDelivery d{.firing = 0, .action = action::None{}, .due = t0};
    db.record_firings({&f, 1}, {&d, 1});
}

}  // namespace

TEST_CASE("a connection the server dropped while it was idle is replaced before it is used",
          "[postgres][fault]") {
    const NamedSchema s;
    auto db = s.open();
    RawConnection admin;
    // Drops every connection of the pool and waits until they are gone.
    const auto drop_all = [&] {
        REQUIRE(s.terminate(admin) > 0);
        REQUIRE(soon([&] { return s.connections(admin) == 0; }));
    };

    drop_all();
    CHECK_NOTHROW(record(*db, "f1"));
    drop_all();
    CHECK(db->history().find("f1"));
    drop_all();
    std::promise<std::exception_ptr> claimed;
    std::size_t leased = 0;
    db->claim_async(t0, 10, t0 + 1h, [&](std::exception_ptr error, ClaimResult result) {
        leased = result.deliveries.size();
        claimed.set_value(error);
    });
    CHECK_FALSE(claimed.get_future().get());
    CHECK(leased == 1);
}

TEST_CASE("herald's connections are named in pg_stat_activity unless the conninfo names them",
          "[postgres][fault]") {
    const std::string schema = test::fresh_schema();
    auto db = postgres::open(test::postgres_conninfo(), {.schema = schema});
    // The connection that listens is this test's alone: it is the one that LISTENs on the schema.
    const auto watch = db->watch(StoreChange::deliveries, [] {});
    CHECK(soon([&] {
        return test::raw_query(
                   "SELECT application_name FROM pg_stat_activity WHERE query = "
                   "'LISTEN \"" +
                   schema + "\"'") == std::vector<std::string>{"herald"};
    }));
}

TEST_CASE(
    "a connection killed in the middle of a transaction fails its call with the cause and "
    "writes nothing of it",
    "[postgres][fault]") {
    const NamedSchema s;
    auto db = s.open();

    SECTION("a group commit of publishes") {
        // The firings are written before the outbox waits: a batch of several, each in its
        // savepoint, loses its connection with the first.
        constexpr int writes = 5;
        std::vector<Firing> firings;
        for (int i = 0; i < writes; ++i)
            firings.push_back(pending_firing("f" + std::to_string(i), t0));
        const std::vector<NewDelivery> deliveries{{.action = action::None{}, .due = t0}};
        std::vector<std::exception_ptr> errors(writes);
        const std::exception_ptr error = killed_at(s, "outbox", [&] {
            std::vector<std::promise<void>> done(writes);
            for (int i = 0; i < writes; ++i)
                db->record_publish_async({.firings = {&firings[i], 1}, .deliveries = deliveries},
                                         [&, i](std::exception_ptr e) {
                                             errors[i] = std::move(e);
                                             done[i].set_value();
                                         });
            for (auto& d : done)
                d.get_future().wait();
        });
        CHECK_FALSE(error);
        for (const std::exception_ptr& e : errors) {
            const Error failed = error_in(e);
            CHECK(failed.code() == errc::storage_failure);
            CHECK_THAT(failed.reason(), Catch::Contains(terminated));
        }
        CHECK(history_ids(*db).empty());
        CHECK(db->outbox().pending_count() == 0);

        record(*db, "again");
        CHECK(history_ids(*db) == std::set<std::string>{"again"});
        CHECK(db->outbox().pending_count() == 1);
    }

    SECTION("a claim") {
        record(*db, "f1");
        std::exception_ptr claim_error;
        CHECK_FALSE(killed_at(s, "outbox", [&] {
            std::promise<void> done;
            db->claim_async(t0, 10, t0 + 1h, [&](std::exception_ptr e, ClaimResult) {
                claim_error = std::move(e);
                done.set_value();
            });
            done.get_future().wait();
        }));
        CHECK_THAT(error_in(claim_error).reason(), Catch::Contains(terminated));
        // Not leased: the next claim takes it.
        CHECK(db->outbox().claim(t0, 10, t0 + 1h).size() == 1);
    }

    SECTION("a settlement") {
        record(*db, "f1");
        const Timestamp lease = t0 + 1h;
        REQUIRE(db->outbox().claim(t0, 10, lease).size() == 1);
        const std::vector<FiringUpdate> history{
            {.firing_id = "f1", .status = FiringStatus::finished}};
        const std::vector<OutboxUpdate> outbox{{.delivery_id = "f1", .lease = lease}};
        // The outbox row goes before the history waits for its lock.
        std::exception_ptr settle_error;
        CHECK_FALSE(killed_at(s, "firings", [&] {
            std::promise<void> done;
            db->settle_async({.history = history, .outbox = outbox},
                             [&](std::exception_ptr e, SettleResult) {
                                 settle_error = std::move(e);
                                 done.set_value();
                             });
            done.get_future().wait();
        }));
        CHECK_THAT(error_in(settle_error).reason(), Catch::Contains(terminated));
        CHECK(db->outbox().pending_count() == 1);
        CHECK(db->history().find("f1")->status == FiringStatus::pending);

        CHECK(db->settle({.history = history, .outbox = outbox}).lost.empty());
        CHECK(db->outbox().pending_count() == 0);
        CHECK(db->history().find("f1")->status == FiringStatus::finished);
    }

    SECTION("a trigger-state write") {
        const TriggerStateKey key{.automation_id = "a1", .run_id = "r1"};
        const std::vector<double> values{1.0, 2.0, 3.0};
        // The run's row is written before its values wait.
        const std::exception_ptr error = killed_at(
            s, "trigger_values", [&] { db->trigger_state().append_values(key, values, 7, 10); });
        CHECK(error_in(error).code() == errc::storage_failure);
        CHECK_THAT(error_in(error).reason(), Catch::Contains(terminated));
        CHECK_FALSE(db->trigger_state().load(key));

        db->trigger_state().append_values(key, values, 7, 10);
        CHECK(db->trigger_state().load(key)->values == values);
    }

    SECTION("a prune") {
        std::vector<Firing> old;
        for (int i = 0; i < 30; ++i) {
            Firing f = pending_firing("old-" + std::to_string(i), t0 - 100h);
            f.status = FiringStatus::finished;
            old.push_back(std::move(f));
        }
        old.push_back(pending_firing("recent", t0));
        db->history().append(old);
        const PruneRequest request{.settled_before = t0 - 1h, .dead_before = t0 - 1h, .batch = 10};
        const std::exception_ptr error = killed_at(s, "firings", [&] { db->prune(request); });
        CHECK_THAT(error_in(error).reason(), Catch::Contains(terminated));
        CHECK(history_ids(*db).size() == 31);

        CHECK(db->prune(request).firings == 30);
        CHECK(history_ids(*db) == std::set<std::string>{"recent"});
    }
}

namespace {

/// What publishing from several threads came to: the events whose firings were recorded, and
/// those whose publish failed, by whether its error says the write may have committed all the
/// same (its connection was lost during COMMIT).
struct Publications {
    std::mutex mutex;
    std::set<std::string> recorded, failed, maybe;
    std::vector<Error> errors;

    void publish(Engine& engine, const std::string& event_id) {
        Event event = test::alias_added("acme", "reg", "clf", "production");
        event.id = event_id;
        try {
            engine.publish(event);
            std::lock_guard lock(mutex);
            recorded.insert(event_id);
        } catch (const Error& e) {
            std::lock_guard lock(mutex);
            (e.reason().find("whether the transaction committed is not known") != std::string::npos
                 ? maybe
                 : failed)
                .insert(event_id);
            errors.push_back(e);
        }
    }
};

/// The dispatcher's on_storage_error, counted by operation.
struct StorageErrors {
    std::mutex mutex;
    std::vector<StorageFailure> failures;

    void operator()(const StorageFailure& f) {
        std::lock_guard lock(mutex);
        failures.push_back(f);
    }
    std::vector<StorageFailure> all() {
        std::lock_guard lock(mutex);
        return failures;
    }
    std::size_t count(const std::string& operation) {
        const std::vector<StorageFailure> copy = all();
        return static_cast<std::size_t>(
            std::count_if(copy.begin(), copy.end(),
                          [&](const StorageFailure& f) { return f.operation == operation; }));
    }
};

/// A replica's configuration: its dispatcher tells `errors` of its store's failures.
std::function<void(EngineConfig&)> reporting_to(StorageErrors& errors) {
    return [&errors](EngineConfig& c) {
        c.dispatch.poll_interval = 50ms;
        c.dispatch.lease = 3s;
        c.dispatch.on_storage_error = std::ref(errors);
    };
}

/// Has `engine` deliver to `receiver` what events in reg alias production, each with its event
/// id in the body.
void deliver_aliases(Engine& engine, const test::TestServer& receiver) {
    const Principal admin = test::admin_of("acme");
    engine.integrations().create(
        admin, WebhookIntegration{.entity = "acme", .name = "deploy", .url = receiver.url()});
    engine.automations().create(
        admin, Automation{.name = "on-production",
                          .scope = Scope::for_project("acme", "reg"),
                          .trigger = trigger::AddArtifactAlias{.alias = Pattern{"production"}},
                          .action = action::Webhook{.integration = "deploy",
                                                    .payload = R"({"event": "${event_id}"})"}});
}

/// The events the receiver was sent deliveries of.
std::multiset<std::string> received_events(const test::TestServer& receiver) {
    std::multiset<std::string> events;
    for (const auto& request : receiver.requests())
        events.insert(boost::json::parse(request.body).at("event").as_string().c_str());
    return events;
}

/// The events of the history's firings, each once; whether each is finished.
std::set<std::string> history_events(Storage& store, bool& all_finished) {
    std::set<std::string> events;
    all_finished = true;
    for (const Firing& f : store.history().query({.limit = 1'000'000})) {
        events.insert(f.event.id);
        all_finished = all_finished && f.status == FiringStatus::finished;
    }
    return events;
}

}  // namespace

TEST_CASE(
    "connections killed at random while writers publish and a dispatcher delivers lose "
    "nothing that was recorded",
    "[postgres][fault][live]") {
    const NamedSchema s;
    test::TestServer receiver;
    StorageErrors storage_errors;
    test::Replica replica(s.schema, reporting_to(storage_errors), s.conninfo);
    deliver_aliases(replica.engine(), receiver);
    Publications publications;
    std::atomic<bool> done = false;
    std::vector<std::thread> writers;
    for (int t = 0; t < 3; ++t)
        writers.emplace_back([&, t] {
            for (int i = 0; !done; ++i)
                publications.publish(replica.engine(),
                                     "w" + std::to_string(t) + "-" + std::to_string(i));
        });

    RawConnection admin;
    std::mt19937 random(std::random_device{}());
    std::uniform_int_distribution<int> pause_ms(20, 120);
    std::size_t killed = 0;
    for (int round = 0; round < 25; ++round) {
        std::this_thread::sleep_for(std::chrono::milliseconds{pause_ms(random)});
        killed += s.terminate(admin);
    }
    done = true;
    for (auto& w : writers)
        w.join();

    // Every recorded publish is delivered, once the kills stop, without anyone reopening.
    bool all_finished = false;
    CHECK(soon([&] {
        return received_events(receiver).size() >= publications.recorded.size() &&
               history_events(*replica.db, all_finished).size() >= publications.recorded.size() &&
               all_finished && replica.db->outbox().pending_count() == 0;
    }));
    std::set<std::string> history = history_events(*replica.db, all_finished);
    CHECK(all_finished);
    const std::multiset<std::string> received = received_events(receiver);
    INFO(killed << " connections killed; " << publications.recorded.size() << " recorded, "
                << publications.failed.size() << " failed, " << publications.maybe.size()
                << " failed during COMMIT");
    CHECK(killed > 0);
    const std::vector<StorageFailure> failures = storage_errors.all();
    CHECK(publications.failed.size() + failures.size() > 0);
    // Each firing with its delivery or neither: what the history has went out, and only
    // publishes that returned (or whose COMMIT was cut off) are in it.
    for (const std::string& event : publications.recorded) {
        CHECK(history.contains(event));
        CHECK(received.contains(event));
    }
    for (const std::string& event : history) {
        CHECK((publications.recorded.contains(event) || publications.maybe.contains(event)));
        CHECK(received.contains(event));
    }
    for (const std::string& event : received)
        CHECK(history.contains(event));
    for (const Error& e : publications.errors) {
        CHECK(e.code() == errc::storage_failure);
        CHECK_THAT(e.reason(), Catch::StartsWith("PostgreSQL: "));
    }
    for (const StorageFailure& f : failures)
        CHECK_THAT(f.reason, Catch::Contains("PostgreSQL: "));

    // The pool made new connections for the ones the server dropped.
    Publications after;
    after.publish(replica.engine(), "after");
    CHECK(after.recorded.size() == 1);
    CHECK(s.connections(admin) > 0);
}

TEST_CASE(
    "a server stopped under a running engine fails its calls clearly, and the engine goes "
    "on by itself once it is back",
    "[postgres][fault][live]") {
    test::PrivateServer server;
    test::TestServer receiver{{.fault = test::Fault::slow}};
    receiver.set_delay(300ms);
    StorageErrors storage_errors;
    test::Replica replica("herald", reporting_to(storage_errors), server.conninfo());
    deliver_aliases(replica.engine(), receiver);
    Publications publications;
    for (int i = 0; i < 5; ++i)
        publications.publish(replica.engine(), "before-" + std::to_string(i));
    REQUIRE(publications.recorded.size() == 5);
    // Stopped while deliveries are at the receiver: their settlements fail, and claims do.
    REQUIRE(soon([&] { return !receiver.requests().empty(); }));
    server.halt();

    for (int i = 0; i < 5; ++i)
        publications.publish(replica.engine(), "during-" + std::to_string(i));
    CHECK(publications.recorded.size() == 5);
    REQUIRE(publications.failed.size() == 5);
    // Each finds its connection closed, and no server to make a new one with.
    for (const Error& e : publications.errors) {
        CHECK(e.code() == errc::storage_failure);
        CHECK_THAT(e.reason(), Catch::StartsWith("PostgreSQL: cannot connect: ") &&
                                   Catch::Contains("No such file or directory"));
    }
    const Error prune_error =
        error_of([&] { replica.db->prune({.settled_before = t0, .dead_before = t0}); });
    CHECK(prune_error.code() == errc::storage_failure);
    CHECK_THAT(prune_error.reason(), Catch::Contains("cannot connect"));
    CHECK(soon([&] { return storage_errors.count("settle") > 0; }));
    const std::size_t claims_failed = storage_errors.count("claim");
    CHECK(soon([&] { return storage_errors.count("claim") > claims_failed + 1; }));

    server.resume();
    // Nothing reopened: the first publish afterwards finds the pool working.
    publications.publish(replica.engine(), "after");
    CHECK(publications.recorded.size() == 6);
    const std::set<std::string> expected = publications.recorded;
    bool all_finished = false;
    CHECK(soon([&] {
        return history_events(*replica.db, all_finished) == expected && all_finished &&
               replica.db->outbox().pending_count() == 0;
    }));
    const std::multiset<std::string> received = received_events(receiver);
    CHECK(std::set<std::string>(received.begin(), received.end()) == expected);
    // Pruning works again too: everything is settled and older than `settled_before`.
    CHECK(replica.db->prune({.settled_before = Timestamp::max(), .dead_before = Timestamp::max()})
              .firings == expected.size() - 1);  // the newest firing is always kept
}
