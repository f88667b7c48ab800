// Opening a database written by an earlier herald: `herald::sqlite::open` migrates its schema,
// and everything it held reads back. fixtures/schema_v1.sql is a schema-1 database (herald 0.1)
// written by the herald tool.
#include "sqlite/temp_dir.hpp"
#include "support/error_of.hpp"

#include <herald/sqlite/database.hpp>

#include <sqlite3.h>
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <variant>

using namespace herald;
using herald::test::error_of;
using herald::test::TempDir;

namespace {

const std::string promote = "01a231c9-0327-76cb-b779-da0b0e4b3a6a";
const std::string low_loss = "01a231c9-032a-7cd8-9a94-04057a9ffe82";
const std::string dead_promote = "01a231c9-0380-7881-b3f0-d52d8bbaa1f8";
const std::string dead_low_loss = "01a231c9-0384-7ba2-9c00-e1f9530ae396";
const std::string crashed = "01a231c9-041f-71b5-9ff3-8f01ab91d86c";
const std::string pending = "01a231c9-0420-705f-9343-812b12203146";

/// Runs SQL on the file with SQLite itself, as another program would.
void run_sql(const std::filesystem::path& file, const std::string& sql) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
    char* error = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
    INFO((error ? error : ""));
    sqlite3_free(error);
    sqlite3_close(db);
    REQUIRE(rc == SQLITE_OK);
}

std::int64_t scalar(const std::filesystem::path& file, const std::string& sql) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
    sqlite3_stmt* statement = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(statement) == SQLITE_ROW);
    const std::int64_t value = sqlite3_column_int64(statement, 0);
    sqlite3_finalize(statement);
    sqlite3_close(db);
    return value;
}

/// A schema-1 database made from the fixture, plus two rows herald 0.1 could also have left:
/// a delivery enqueued without a history record, and a firing whose event had a NaN metric
/// (herald 0.1 wrote it as a bare NaN, which is not JSON).
std::filesystem::path version_1_database(const TempDir& dir) {
    std::ifstream fixture(HERALD_SOURCE_DIR "/tests/sqlite/fixtures/schema_v1.sql");
    REQUIRE(fixture);
    std::stringstream sql;
    sql << fixture.rdbuf();
    const auto file = dir / "herald.db";
    run_sql(file, sql.str());
    run_sql(file,
            "INSERT INTO outbox SELECT 'orphan', ready_at, dead_seq, due, attempts, "
            "round_start, replace(body, '" +
                pending + "', 'orphan') FROM outbox WHERE id = '" + pending + "'");
    run_sql(file,
            R"sql(INSERT INTO firings (id, automation_id, entity, integration, time, body) VALUES
            ('diverged', 'a-x', 'acme', '', 5, '{"id":"diverged","automation_id":"a-x",
            "automation_name":"n","action":"NO_ACTION","event":{"id":"ev-9","time":5,"author":"",
            "entity":"acme","project":"train","kind":"run_metrics_logged","body":{"run":{"id":"r-2",
            "name":"","user":""},"step":1,"metrics":[{"name":"loss","value":NaN},
            {"name":"acc","value":-Infinity}]}},"time":5,"reason":"r","status":"Finished",
            "integration":"","payload":"","attempts":[]}'))sql");
    return file;
}

}  // namespace

TEST_CASE("a read-only open refuses an older schema and leaves the file as it was", "[sqlite]") {
    TempDir dir;
    const auto file = version_1_database(dir);
    const Error e = error_of([&] { sqlite::open(file, {.read_only = true}); });
    CHECK(e.code() == errc::storage_failure);
    CHECK(e.reason().find("has schema version 1, older than this herald's") != std::string::npos);
    CHECK(scalar(file, "PRAGMA user_version") == 1);
    sqlite::open(file);  // what a read-only open cannot do, a writing one does
    CHECK_NOTHROW(sqlite::open(file, {.read_only = true}));
}

TEST_CASE("a schema-1 database is migrated on open and keeps what it held", "[sqlite]") {
    TempDir dir;
    const auto file = version_1_database(dir);
    {
        auto store = sqlite::open(file);

        const std::vector<Firing> history = store->history().query({});
        REQUIRE(history.size() == 6);
        CHECK(history[0].id == "orphan");  // recorded by the migration
        CHECK(history[1].id == "diverged");
        CHECK(history[2].id == pending);
        CHECK(history[5].id == dead_promote);

        const auto first = store->history().find(dead_promote);
        REQUIRE(first);
        CHECK(first->automation_id == promote);
        CHECK(first->automation_name == "promote");
        CHECK(first->status == FiringStatus::dead);
        CHECK(first->integration == "deploy");
        CHECK(first->event.id == "ev-1");
        CHECK(first->event.author == "grace");
        CHECK(first->event.time == *parse_rfc3339("2026-11-20T10:00:00.123456789Z"));
        const auto& alias = std::get<AliasAdded>(first->event.body);
        CHECK(alias.alias == "production");
        CHECK(alias.version.index == 3);
        CHECK(alias.version.aliases == std::vector<std::string>{"latest", "production"});
        CHECK(alias.version.metadata.at("framework") == "torch");
        REQUIRE(first->attempts.size() == 2);
        CHECK(first->attempts[1].number == 2);
        CHECK(first->attempts[1].error.find("Connection refused") != std::string::npos);
        CHECK(first->payload ==
              R"({"alias":"production","version":"acme/model-registry/resnet:production"})");

        const auto metric = store->history().find(dead_low_loss);
        REQUIRE(metric);
        const auto& logged = std::get<RunMetricsLogged>(metric->event.body);
        CHECK(logged.run.name == "bright-sun-1");
        CHECK(logged.step == 7);
        REQUIRE(logged.metrics.size() == 2);
        CHECK(logged.metrics[1].name == "acc");
        REQUIRE(metric->metric);
        CHECK(metric->metric->metric_values == std::vector<double>{0.42});

        const auto state = store->history().find(crashed);
        REQUIRE(state);
        CHECK(std::get<RunStateChanged>(state->event.body).state == RunState::crashed);
        CHECK(state->status == FiringStatus::finished);

        const auto diverged = store->history().find("diverged");
        REQUIRE(diverged);
        const auto& points = std::get<RunMetricsLogged>(diverged->event.body).metrics;
        CHECK(std::isnan(points.at(0).value));
        CHECK(points.at(1).value == -std::numeric_limits<double>::infinity());

        // The outbox: two dead letters, two waiting (one enqueued without a history record).
        const std::vector<Delivery> dead = store->outbox().dead_letters();
        REQUIRE(dead.size() == 2);
        CHECK(dead[0].firing.id == dead_promote);
        CHECK(dead[0].attempts == 2);
        CHECK(dead[0].trigger == TriggerKind::add_artifact_alias);
        const auto* webhook = std::get_if<action::Webhook>(&dead[0].action.spec());
        REQUIRE(webhook);
        CHECK(webhook->integration == "deploy");
        CHECK(dead[1].firing.id == dead_low_loss);
        CHECK(store->outbox().pending_count() == 2);
        const Timestamp later = *parse_rfc3339("2030-01-01T00:00:00Z");
        const std::vector<Delivery> due = store->outbox().claim(later, 10, later);
        REQUIRE(due.size() == 2);
        CHECK(due[0].firing.id == pending);
        CHECK(due[0].firing.event.id == "ev-4");
        CHECK(due[1].firing.id == "orphan");
        CHECK(due[1].firing.automation_name == "promote");
        CHECK(store->outbox().replay(dead_promote, later));

        // Automations, integrations, secrets and trigger state are where they were.
        CHECK(store->automations().all().size() == 3);
        CHECK(store->integrations().find("acme", "deploy"));
        const auto key = sqlite::EncryptionKey::parse(
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "test key");
        auto secrets = store->secrets(std::make_shared<sqlite::StaticKeyProvider>(key));
        const auto token = secrets->get("acme", "GH_TOKEN");
        REQUIRE(token);
        CHECK(token->value.reveal() == "tok-v1-fixture");
        const auto run = store->trigger_state().load({.automation_id = low_loss, .run_id = "r-1"});
        REQUIRE(run);
        CHECK(run->values == std::vector<double>{0.42});
        CHECK(run->last_step == 7);
        CHECK(run->condition == ConditionProgress{});  // rows from before start normal
    }
    CHECK(scalar(file, "PRAGMA user_version") == sqlite::schema_version);
    // Opening it again finds nothing to migrate and the same history.
    auto again = sqlite::open(file);
    CHECK(again->history().query({}).size() == 6);
    CHECK(again->outbox().pending_count() == 3);
}
