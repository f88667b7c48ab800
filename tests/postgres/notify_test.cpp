// Engines on one PostgreSQL database are told at once (LISTEN/NOTIFY) of deliveries another
// engine enqueued and of automations it changed, rather than at their next poll; a listening
// connection the server drops is made again.
#include "postgres/replica.hpp"
#include "postgres/test_server.hpp"
#include "support/event_builders.hpp"
#include "support/test_server.hpp"

#include <herald/engine.hpp>
#include <herald/postgres/database.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

/// Polls that a test could never wait for: what happens sooner was told.
constexpr auto never = 10min;

std::shared_ptr<herald::postgres::Database> open_schema(const std::string& schema) {
    return herald::postgres::open(herald::test::postgres_conninfo(), {.schema = schema});
}

/// A replica that would poll for deliveries and automations only every ten minutes.
herald::test::Replica slow_polling(const std::string& schema) {
    return herald::test::Replica(schema, [](herald::EngineConfig& c) {
        c.refresh_interval = never;
        c.dispatch.poll_interval = never;
    });
}

herald::Automation on_alias(std::string alias) {
    return herald::Automation{
        .name = "on-" + alias,
        .scope = herald::Scope::for_project("acme", "reg"),
        .trigger = herald::trigger::AddArtifactAlias{.alias = herald::Pattern{alias}},
        .action = herald::action::Webhook{.integration = "hook"}};
}

/// Whether `done` holds within 10 s.
bool soon(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline)
            return false;
        std::this_thread::sleep_for(20ms);
    }
    return true;
}

}  // namespace

TEST_CASE("a delivery another engine enqueues is sent at once, not at the next poll",
          "[postgres][notify]") {
    herald::test::TestServer receiver;
    const std::string schema = herald::test::fresh_schema();
    const herald::Principal admin = herald::test::admin_of("acme");
    herald::Engine publisher({.storage = open_schema(schema), .refresh_interval = 0ms});
    publisher.integrations().create(
        admin, herald::WebhookIntegration{.entity = "acme", .name = "hook", .url = receiver.url()});
    publisher.automations().create(admin, on_alias("production"));
    herald::test::Replica sender = slow_polling(schema);
    std::this_thread::sleep_for(200ms);  // its first claim found nothing: it waits for a poll

    publisher.publish(herald::test::alias_added("acme", "reg", "m1", "production"));
    CHECK(soon([&] { return receiver.requests().size() == 1; }));

    // The server drops the listening connection (a restart, a proxy's idle timeout): it is
    // made again, and told again.
    const auto killed = herald::test::raw_query(
        "SELECT pg_terminate_backend(pid)::text FROM pg_stat_activity WHERE query = 'LISTEN \"" +
        schema + "\"'");
    CHECK(killed == std::vector<std::string>{"true"});
    CHECK(soon([&] {
        return herald::test::raw_query(
                   "SELECT count(*)::text FROM pg_stat_activity WHERE query = "
                   "'LISTEN \"" +
                   schema + "\"'") == std::vector<std::string>{"1"};
    }));
    publisher.publish(herald::test::alias_added("acme", "reg", "m2", "production"));
    CHECK(soon([&] { return receiver.requests().size() == 2; }));
}

TEST_CASE("an automation another engine creates is matched at once, not at the next refresh",
          "[postgres][notify]") {
    const std::string schema = herald::test::fresh_schema();
    const herald::Principal admin = herald::test::admin_of("acme");
    herald::Engine writer({.storage = open_schema(schema), .refresh_interval = 0ms});
    herald::test::Replica reader = slow_polling(schema);
    std::this_thread::sleep_for(200ms);  // its first look found nothing
    const auto fires = [&](const std::string& alias) {
        return reader.engine()
                   .publish(herald::test::alias_added("acme", "reg", "m", alias))
                   .firings.size() == 1;
    };

    herald::Automation watch = on_alias("staging");
    watch.action = herald::action::None{};
    const herald::Automation made = writer.automations().create(admin, watch);
    CHECK(soon([&] { return fires("staging"); }));
    writer.automations().set_enabled(admin, made.id, false);
    CHECK(soon([&] { return !fires("staging"); }));
}
