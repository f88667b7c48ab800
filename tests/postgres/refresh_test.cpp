// Engines on one PostgreSQL database see the automations the others create, change and delete:
// through Engine::refresh, and on their own every EngineConfig::refresh_interval.
#include "postgres/test_server.hpp"
#include "support/error_of.hpp"
#include "support/event_builders.hpp"
#include "support/log_capture.hpp"

#include <herald/automation_json.hpp>
#include <herald/engine.hpp>
#include <herald/error.hpp>
#include <herald/postgres/database.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <thread>

using namespace std::chrono_literals;
using herald::test::admin_of;
using herald::test::alias_added;
using herald::test::fresh_schema;
using herald::test::postgres_conninfo;

namespace {

std::shared_ptr<herald::postgres::Database> open_schema(const std::string& schema) {
    return herald::postgres::open(postgres_conninfo(), {.schema = schema});
}

herald::Automation watching(const std::string& alias) {
    return herald::automation_from_json(
        R"({"name": "watch", "scope": {"type": "PROJECT", "entity": "acme", "project": "mnist"},
            "trigger": {"type": "ADD_ARTIFACT_ALIAS", "alias": ")" +
        alias + R"("}, "action": {"type": "NO_ACTION"}})");
}

std::size_t fired(herald::Engine& engine, const std::string& alias) {
    return engine.publish(alias_added("acme", "mnist", "classifier", alias)).firings.size();
}

}  // namespace

TEST_CASE("an engine sees the automations another engine creates, changes and deletes",
          "[postgres]") {
    const std::string schema = fresh_schema();
    herald::Engine a({.storage = open_schema(schema), .refresh_interval = 0ms});
    herald::Engine b({.storage = open_schema(schema), .refresh_interval = 0ms});
    const herald::Principal admin = admin_of("acme");
    CHECK(!b.refresh());

    const herald::Automation made = a.automations().create(admin, watching("production"));
    CHECK(fired(b, "production") == 0);  // not before it looks
    CHECK(b.refresh());
    CHECK(fired(b, "production") == 1);
    CHECK(!a.refresh());  // its own change: nothing new to it

    a.automations().set_enabled(admin, made.id, false);
    CHECK(b.refresh());
    CHECK(fired(b, "production") == 0);
    CHECK(!b.automations().get(admin, made.id).enabled);

    a.automations().set_enabled(admin, made.id, true);
    a.automations().update(admin, made.id, watching("staging"));
    CHECK(b.refresh());
    CHECK(fired(b, "production") == 0);
    CHECK(fired(b, "staging") == 1);

    a.automations().remove(admin, made.id);
    CHECK(b.refresh());
    CHECK(fired(b, "staging") == 0);
    CHECK(herald::test::error_of([&] { b.automations().get(admin, made.id); }).code() ==
          herald::errc::not_found);
    CHECK(!b.refresh());
}

TEST_CASE("an engine on a shared database picks a change up on its own", "[postgres]") {
    const std::string schema = fresh_schema();
    herald::test::LogCapture logs;
    herald::Engine writer({.storage = open_schema(schema), .refresh_interval = 0ms});
    herald::Engine reader({.storage = open_schema(schema),
                           .logger = logs.logger(herald::LogLevel::info),
                           .refresh_interval = 20ms});
    writer.automations().create(admin_of("acme"), watching("production"));
    // Within a few intervals; the bound here only keeps a broken build from hanging.
    const auto give_up = std::chrono::steady_clock::now() + 10s;
    while (logs.of("automations.refreshed").empty() && std::chrono::steady_clock::now() < give_up)
        std::this_thread::sleep_for(5ms);
    REQUIRE(logs.of("automations.refreshed").size() == 1);
    CHECK(logs.of("automations.refreshed")[0].fields.at("added") == "1");
    CHECK(fired(reader, "production") == 1);
}
