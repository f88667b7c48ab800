#include "sqlite/schema.hpp"
#include "codec/storage_codec.hpp"

#include <herald/clock.hpp>
#include <herald/error.hpp>
#include <herald/sqlite/database.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

namespace herald::detail::sqlite {
namespace json = boost::json;
namespace {

/// Marks a file as herald's (PRAGMA application_id): "hrld".
constexpr std::int64_t application_id = 0x68726c64;

// Migration i takes the schema from version i to i + 1: SQL, then, for some, a step that
// rewrites documents. Released migrations never change; a new schema version appends one. Times
// are nanoseconds since the epoch; documents are the JSON of codec/storage_codec.hpp.
struct Migration {
    std::string_view sql;
    void (*rewrite)(Connection&) = nullptr;
};

bool has_tables(Connection& connection) {
    return connection.scalar("SELECT count(*) FROM sqlite_schema WHERE type = 'table'") > 0;
}

[[noreturn]] void refuse(const Connection& connection, const std::string& reason) {
    throw Error(errc::storage_failure, "", connection.path() + ": " + reason);
}

/// Version 1 wrote a non-finite metric value of an event as a bare NaN, Infinity or -Infinity,
/// which is not JSON; such a document is read with those values quoted, as version 2 writes
/// them.
std::string quote_non_finite_numbers(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 16);
    bool in_string = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char ch = text[i];
        if (in_string) {
            out += ch;
            if (ch == '\\' && i + 1 < text.size())
                out += text[++i];
            else if (ch == '"')
                in_string = false;
            continue;
        }
        if (ch == '"')
            in_string = true;
        bool quoted = false;
        for (std::string_view token : {"NaN", "Infinity", "-Infinity"})
            if (text.substr(i).starts_with(token)) {
                out += '"';
                out += token;
                out += '"';
                i += token.size() - 1;
                quoted = true;
                break;
            }
        if (!quoted)
            out += ch;
    }
    return out;
}

json::object parse_stored_firing(const Connection& c, std::string_view text) {
    for (const std::string& candidate : {std::string(text), quote_non_finite_numbers(text)}) {
        boost::system::error_code ec;
        json::value document = json::parse(candidate, ec);
        if (!ec && document.is_object())
            return std::move(document.get_object());
    }
    refuse(c, "a stored firing is not a JSON object; cannot upgrade the schema");
}

std::string upper(std::string_view name) {
    std::string out(name);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
    return out;
}

/// A version 1 event as herald's event JSON: {"type": "ALIAS_ADDED", "id", "time": RFC 3339,
/// "author", "entity", "project", the kind's fields}.
json::object event_v2(const json::object& v1) {
    json::object event;
    event["type"] = upper(v1.at("kind").as_string());
    event["id"] = v1.at("id");
    event["time"] = format_rfc3339(codec::timestamp(v1.at("time").to_number<std::int64_t>()));
    for (std::string_view key : {"author", "entity", "project"})
        event[key] = v1.at(key);
    for (const auto& [key, value] : v1.at("body").as_object())
        event[key] = value;
    if (json::value* state = event.if_contains("state"))
        *state = upper(state->as_string());
    return event;
}

/// Version 1 kept a firing's id, automation id, time and integration in its document as well as
/// in columns, and its event in a format of its own: {"id", "time": nanoseconds, "author",
/// "entity", "project", "kind": "alias_added", "body": {the kind's fields}}. Version 2 keeps the
/// rest of the firing, with the event in herald's event JSON format.
void upgrade_firing_documents_v1(Connection& c) {
    Query read(c, "SELECT seq, body FROM firings");
    Query write(c, "UPDATE firings SET body = ?2 WHERE seq = ?1");
    while (read->step()) {
        json::object firing = parse_stored_firing(c, read->text(1));
        for (std::string_view column : {"id", "automation_id", "time", "integration"})
            firing.erase(column);
        if (firing.contains("payload") && firing.at("payload").as_string().empty())
            firing.erase("payload");
        if (firing.contains("attempts") && firing.at("attempts").as_array().empty())
            firing.erase("attempts");
        firing["event"] = event_v2(firing.at("event").as_object());
        write->bind(1, read->int64(0)).bind(2, json::serialize(firing)).run();
        write->reset();
    }
}

constexpr std::array<Migration, herald::sqlite::schema_version> migrations{
    Migration{R"sql(
CREATE TABLE automations (
    id   TEXT PRIMARY KEY,
    body TEXT NOT NULL              -- herald::to_json(Automation)
) WITHOUT ROWID;

CREATE TABLE integrations (
    entity TEXT NOT NULL,
    name   TEXT NOT NULL,
    body   TEXT NOT NULL,
    PRIMARY KEY (entity, name)
) WITHOUT ROWID;

CREATE TABLE firings (
    seq           INTEGER PRIMARY KEY,  -- append order: newest first is seq descending
    id            TEXT NOT NULL UNIQUE,
    automation_id TEXT NOT NULL,
    entity        TEXT NOT NULL,
    integration   TEXT NOT NULL,
    time          INTEGER NOT NULL,
    body          TEXT NOT NULL
);
CREATE INDEX firings_by_automation ON firings (automation_id, seq);
CREATE INDEX firings_by_integration ON firings (entity, integration, seq) WHERE integration <> '';

CREATE TABLE outbox (
    id          TEXT PRIMARY KEY,
    ready_at    INTEGER NOT NULL,  -- the due time, or the lease end while claimed
    dead_seq    INTEGER,           -- dead-lettering order; NULL while waiting
    due         INTEGER NOT NULL,
    attempts    INTEGER NOT NULL,
    round_start INTEGER NOT NULL,
    body        TEXT NOT NULL
);
CREATE INDEX outbox_waiting ON outbox (ready_at, id) WHERE dead_seq IS NULL;
CREATE INDEX outbox_dead ON outbox (dead_seq) WHERE dead_seq IS NOT NULL;

CREATE TABLE trigger_runs (
    automation_id TEXT NOT NULL,
    run_id        TEXT NOT NULL,
    last_step     INTEGER,
    last_fired    INTEGER,
    next_seq      INTEGER NOT NULL DEFAULT 0,  -- numbers the next value appended
    PRIMARY KEY (automation_id, run_id)
) WITHOUT ROWID;

CREATE TABLE trigger_values (
    automation_id TEXT NOT NULL,
    run_id        TEXT NOT NULL,
    seq           INTEGER NOT NULL,
    value         REAL NOT NULL,
    PRIMARY KEY (automation_id, run_id, seq)
) WITHOUT ROWID;

CREATE TABLE secrets (
    entity           TEXT NOT NULL,
    name             TEXT NOT NULL,
    key_id           TEXT NOT NULL,  -- EncryptionKey::id of the key that sealed the row
    nonce            BLOB NOT NULL,
    ciphertext       BLOB NOT NULL,  -- AES-256-GCM of the value (and the previous one), with tag
    previous_expires INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    PRIMARY KEY (entity, name)
) WITHOUT ROWID;
)sql"},
    // Version 2: a firing is stored once. A delivery enqueued with its firing stays in the
    // firing's row (action, trigger, due) until the dispatcher takes it into the outbox table,
    // whose rows refer to the firing and keep the action, trigger kind and delivery state;
    // outbox_cursor is the last firing looked at for deliveries (database.cpp,
    // SqliteOutboxStore). A delivery that was enqueued without a history record gets one.
    Migration{R"sql(
ALTER TABLE firings ADD COLUMN action TEXT;     -- a delivery recorded with the firing: its action
ALTER TABLE firings ADD COLUMN trigger TEXT;    -- the automation's trigger kind
ALTER TABLE firings ADD COLUMN due INTEGER;     -- when it is due

INSERT INTO firings (id, automation_id, entity, integration, time, body)
SELECT o.id, json_extract(o.body, '$.firing.automation_id'),
       json_extract(o.body, '$.firing.event.entity'), json_extract(o.body, '$.firing.integration'),
       json_extract(o.body, '$.firing.time'), json_extract(o.body, '$.firing')
FROM outbox o WHERE NOT EXISTS (SELECT 1 FROM firings f WHERE f.id = o.id);

CREATE TABLE deliveries (
    seq         INTEGER PRIMARY KEY,  -- the firing delivered: firings.seq
    ready_at    INTEGER NOT NULL,     -- the due time, or the lease end while claimed
    dead_seq    INTEGER,              -- dead-lettering order; NULL while waiting
    due         INTEGER NOT NULL,
    attempts    INTEGER NOT NULL,
    round_start INTEGER NOT NULL,
    action      TEXT NOT NULL,        -- the automation's action when it fired
    trigger     TEXT NOT NULL         -- the automation's trigger kind
);
INSERT INTO deliveries (seq, ready_at, dead_seq, due, attempts, round_start, action, trigger)
SELECT f.seq, o.ready_at, o.dead_seq, o.due, o.attempts, o.round_start,
       json_extract(o.body, '$.action'), json_extract(o.body, '$.trigger')
FROM outbox o JOIN firings f ON f.id = o.id;
DROP TABLE outbox;
ALTER TABLE deliveries RENAME TO outbox;
CREATE INDEX outbox_waiting ON outbox (ready_at) WHERE dead_seq IS NULL;
CREATE INDEX outbox_dead ON outbox (dead_seq) WHERE dead_seq IS NOT NULL;

CREATE TABLE outbox_cursor (seq INTEGER NOT NULL);
INSERT INTO outbox_cursor SELECT coalesce(max(seq), 0) FROM firings;
)sql",
              upgrade_firing_documents_v1},
    // Version 3: where each metric trigger's condition stands for a run (pending period and
    // hysteresis); rows written before start normal, as the trigger then behaved. And the
    // latest value of each recent run for z-scores across runs.
    Migration{R"sql(
ALTER TABLE trigger_runs ADD COLUMN condition_state TEXT NOT NULL DEFAULT 'normal';
ALTER TABLE trigger_runs ADD COLUMN condition_streak INTEGER NOT NULL DEFAULT 0;
ALTER TABLE trigger_runs ADD COLUMN condition_since INTEGER;
ALTER TABLE trigger_runs ADD COLUMN condition_fired INTEGER NOT NULL DEFAULT 0;

CREATE TABLE trigger_population (
    automation_id TEXT NOT NULL,
    run_id        TEXT NOT NULL,
    seq           INTEGER NOT NULL,  -- update order within the automation
    value         REAL NOT NULL,
    PRIMARY KEY (automation_id, run_id)
) WITHOUT ROWID;
CREATE INDEX trigger_population_order ON trigger_population (automation_id, seq);
)sql"},
    // Version 4: an entity's history, newest first, for the paged history of Engine::history.
    Migration{R"sql(
CREATE INDEX firings_by_entity ON firings (entity, seq);
)sql"},
    // Version 5: how far pruning has expunged payloads and response bodies (database.cpp,
    // Database::prune): the firings up to bodies_seq have been looked at.
    Migration{R"sql(
CREATE TABLE retention (bodies_seq INTEGER NOT NULL);
INSERT INTO retention VALUES (0);
)sql"},
    // Version 6: each failing integration's streak (database.cpp, SqliteIntegrationStore):
    // when its deliveries began failing, kept across restarts for auto-disable.
    Migration{R"sql(
CREATE TABLE integration_streaks (
    entity TEXT NOT NULL,
    name   TEXT NOT NULL,
    since  INTEGER NOT NULL,
    PRIMARY KEY (entity, name)
) WITHOUT ROWID;
)sql"},
    // Version 7: the ids of published events (database.cpp, SqliteHistoryStore::remember_event),
    // so that an event published again is not recorded twice; pruned by publish time.
    Migration{R"sql(
CREATE TABLE published_events (
    event_id TEXT PRIMARY KEY,
    time     INTEGER NOT NULL,  -- when it was published
    firings  TEXT NOT NULL      -- the ids of the firings it recorded, a JSON array
) WITHOUT ROWID;
CREATE INDEX published_events_by_time ON published_events (time);
)sql"},
};

/// The schema version of `connection`'s file; refuses a file that is not a herald database
/// (an empty one is, at version 0) or was written by a newer herald.
std::int64_t version_of(Connection& connection) {
    const std::int64_t id = connection.scalar("PRAGMA application_id");
    const std::int64_t version = connection.scalar("PRAGMA user_version");
    if (id != application_id && (id != 0 || version != 0 || has_tables(connection)))
        refuse(connection, "is not a herald database");
    if (version > herald::sqlite::schema_version)
        refuse(connection, "has schema version " + std::to_string(version) +
                               ", newer than this herald supports (" +
                               std::to_string(herald::sqlite::schema_version) +
                               "); open it with a newer herald");
    return version;
}

}  // namespace

void check_schema(Connection& connection) {
    const std::int64_t version = version_of(connection);
    if (version < herald::sqlite::schema_version)
        refuse(connection, "has schema version " + std::to_string(version) +
                               ", older than this herald's (" +
                               std::to_string(herald::sqlite::schema_version) +
                               "); a read-only open does not upgrade it: open it for writing once "
                               "(an engine, or a herald command that changes something)");
}

void migrate(Connection& connection) {
    const std::int64_t version = version_of(connection);
    for (auto step = static_cast<std::size_t>(version); step < migrations.size(); ++step) {
        Transaction transaction(connection);
        connection.exec(migrations[step].sql);
        if (migrations[step].rewrite)
            migrations[step].rewrite(connection);
        connection.exec("PRAGMA application_id = " + std::to_string(application_id));
        connection.exec("PRAGMA user_version = " + std::to_string(step + 1));
        transaction.commit();
    }
}

}  // namespace herald::detail::sqlite
