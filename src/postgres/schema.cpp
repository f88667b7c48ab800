#include "postgres/schema.hpp"

#include <herald/error.hpp>
#include <herald/postgres/database.hpp>

#include <array>
#include <string_view>

namespace herald::detail::postgres {
namespace {

// Migration i takes the schema from version i to i + 1. Released migrations never change; a
// new schema version appends one. Times are nanoseconds since the epoch; documents are the
// JSON of codec/storage_codec.hpp. The tables are found through the connection's search path
// (the schema option), so no statement names the schema.
constexpr std::array<std::string_view, herald::postgres::schema_version> migrations = {
    R"sql(
    CREATE TABLE automations (id text PRIMARY KEY, body text NOT NULL);
    CREATE TABLE integrations (
        entity text NOT NULL, name text NOT NULL, body text NOT NULL,
        PRIMARY KEY (entity, name));
    CREATE TABLE firings (
        seq bigserial PRIMARY KEY,
        id text NOT NULL UNIQUE,
        automation_id text NOT NULL,
        entity text NOT NULL,
        integration text NOT NULL,
        time bigint NOT NULL,
        body text NOT NULL);
    CREATE INDEX firings_by_automation ON firings (automation_id, seq);
    CREATE INDEX firings_by_integration ON firings (entity, integration, seq)
        WHERE integration <> '';
    CREATE SEQUENCE dead_letter_seq;
    CREATE TABLE outbox (
        firing_id text PRIMARY KEY REFERENCES firings (id) ON DELETE CASCADE,
        seq bigint NOT NULL,
        ready_at bigint NOT NULL,
        due bigint NOT NULL,
        attempts integer NOT NULL,
        round_start integer NOT NULL,
        action text NOT NULL,
        trigger text NOT NULL,
        dead_seq bigint);
    CREATE INDEX outbox_ready ON outbox (ready_at, seq) WHERE dead_seq IS NULL;
    CREATE INDEX outbox_dead ON outbox (dead_seq) WHERE dead_seq IS NOT NULL;
    CREATE TABLE secrets (
        entity text NOT NULL, name text NOT NULL,
        key_id text NOT NULL, nonce bytea NOT NULL, ciphertext bytea NOT NULL,
        previous_expires bigint NOT NULL, updated_at bigint NOT NULL,
        PRIMARY KEY (entity, name));
    CREATE TABLE trigger_runs (
        automation_id text NOT NULL, run_id text NOT NULL,
        last_step bigint, last_fired bigint, next_seq bigint NOT NULL DEFAULT 0,
        condition_state text NOT NULL DEFAULT 'normal',
        condition_streak bigint NOT NULL DEFAULT 0,
        condition_since bigint,
        condition_fired boolean NOT NULL DEFAULT false,
        PRIMARY KEY (automation_id, run_id));
    CREATE TABLE trigger_values (
        automation_id text NOT NULL, run_id text NOT NULL, seq bigint NOT NULL,
        value double precision NOT NULL,
        PRIMARY KEY (automation_id, run_id, seq));
    CREATE TABLE trigger_population (
        automation_id text NOT NULL, run_id text NOT NULL, seq bigint NOT NULL,
        value double precision NOT NULL,
        PRIMARY KEY (automation_id, run_id));
    CREATE INDEX trigger_population_by_seq ON trigger_population (automation_id, seq);
    )sql",
    // Version 2: an entity's history, newest first, for the paged history of Engine::history.
    R"sql(
    CREATE INDEX firings_by_entity ON firings (entity, seq);
    )sql",
    // Version 3: how far pruning has expunged payloads and response bodies (Database::prune):
    // the firings up to bodies_seq have been looked at.
    R"sql(
    CREATE TABLE retention (bodies_seq bigint NOT NULL);
    INSERT INTO retention VALUES (0);
    )sql",
    // Version 4: the automations' revision (AutomationTable::revision), moved by every
    // statement that writes the automations table, whoever runs it, in that statement's
    // transaction: an engine that reads a new revision then reads the change with it.
    R"sql(
    CREATE TABLE automations_revision (revision bigint NOT NULL);
    INSERT INTO automations_revision VALUES (0);
    CREATE FUNCTION automations_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE automations_revision SET revision = revision + 1;
        RETURN NULL;
    END $$;
    CREATE TRIGGER automations_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
        ON automations FOR EACH STATEMENT EXECUTE FUNCTION automations_changed();
    )sql",
    // Version 5: each failing integration's streak (IntegrationTable::update_streaks), shared
    // by every engine on the schema and kept across restarts for auto-disable.
    R"sql(
    CREATE TABLE integration_streaks (
        entity text NOT NULL, name text NOT NULL, since bigint NOT NULL,
        PRIMARY KEY (entity, name));
    )sql",
    // Version 6: the action a firing's delivery was recorded with, and its trigger kind, kept
    // with the firing (HistoryTable::recorded_action) for replays; taken from the outbox for
    // deliveries still there.
    R"sql(
    ALTER TABLE firings ADD COLUMN action text, ADD COLUMN trigger text;
    UPDATE firings f SET action = o.action, trigger = o.trigger FROM outbox o
        WHERE o.firing_id = f.id;
    )sql",
    // Version 7: NOTIFY on the channel named as the schema when deliveries are enqueued or
    // automations change (Database::watch), committed with the change, whoever makes it.
    R"sql(
    CREATE FUNCTION deliveries_enqueued() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify(TG_TABLE_SCHEMA, 'herald deliveries');
        RETURN NULL;
    END $$;
    CREATE TRIGGER deliveries_enqueued AFTER INSERT ON outbox
        FOR EACH STATEMENT EXECUTE FUNCTION deliveries_enqueued();
    CREATE OR REPLACE FUNCTION automations_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE automations_revision SET revision = revision + 1;
        PERFORM pg_notify(TG_TABLE_SCHEMA, 'herald automations');
        RETURN NULL;
    END $$;
    )sql",
    // Version 8: the ids of published events (HistoryTable::remember_event), so that an event
    // published again, through any engine, is not recorded twice; pruned by publish time.
    R"sql(
    CREATE TABLE published_events (
        event_id text PRIMARY KEY,
        time bigint NOT NULL,
        firings text NOT NULL
    );
    CREATE INDEX published_events_by_time ON published_events (time);
    )sql",
};

/// Lowercase letters, digits and underscores, not starting with a digit: a name that needs no
/// quoting, so it reads the same in psql and in the search path.
bool plain_identifier(std::string_view name) {
    if (name.empty() || name.size() > 63 || (name[0] >= '0' && name[0] <= '9'))
        return false;
    for (char ch : name)
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_'))
            return false;
    return true;
}

}  // namespace

void prepare_schema(Connection& c, const std::string& schema) {
    if (!plain_identifier(schema))
        throw Error(errc::invalid_argument, "schema",
                    "schema name '" + schema +
                        "' is not a plain identifier (lowercase letters, digits and _)");
    c.exec("BEGIN");
    try {
        // One opener at a time creates or migrates a schema (a transaction-scoped lock).
        c.exec("SELECT pg_advisory_xact_lock(hashtext('herald schema ' || $1))",
               Params().text(schema));
        c.exec_script("CREATE SCHEMA IF NOT EXISTS " + c.quote_identifier(schema) +
                      "; CREATE TABLE IF NOT EXISTS herald_schema (version integer NOT NULL)");
        Result current = c.exec("SELECT version FROM herald_schema");
        int version = 0;
        if (current.rows() == 0)
            c.exec("INSERT INTO herald_schema (version) VALUES (0)");
        else
            version = static_cast<int>(current.int64(0, 0));
        if (version > herald::postgres::schema_version)
            throw Error(errc::storage_failure, "schema",
                        "PostgreSQL schema '" + schema + "' holds herald schema version " +
                            std::to_string(version) + ", newer than this build's version " +
                            std::to_string(herald::postgres::schema_version) +
                            ": open it with a newer herald");
        for (int v = version; v < herald::postgres::schema_version; ++v)
            c.exec_script(migrations[static_cast<std::size_t>(v)]);
        if (version != herald::postgres::schema_version)
            c.exec("UPDATE herald_schema SET version = $1",
                   Params().int64(herald::postgres::schema_version));
        c.exec("COMMIT");
    } catch (...) {
        try {
            if (c.healthy())
                c.exec_script("ROLLBACK");
        } catch (...) {
            // The server rolls back a transaction whose connection broke.
        }
        throw;
    }
}

}  // namespace herald::detail::postgres
