#include "sqlite/schema.hpp"

#include <herald/error.hpp>
#include <herald/sqlite/database.hpp>

#include <array>
#include <string>

namespace herald::detail::sqlite {
namespace {

/// Marks a file as herald's (PRAGMA application_id): "hrld".
constexpr std::int64_t application_id = 0x68726c64;

// Migration i takes the schema from version i to i + 1. Released migrations never change;
// a new schema version appends one. Times are nanoseconds since the epoch; documents are the
// JSON of codec.hpp.
constexpr std::array<std::string_view, herald::sqlite::schema_version> migrations{
    R"sql(
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
)sql",
};

bool has_tables(Connection& connection) {
    return connection.scalar("SELECT count(*) FROM sqlite_schema WHERE type = 'table'") > 0;
}

[[noreturn]] void refuse(const Connection& connection, const std::string& reason) {
    throw Error(errc::storage_failure, "", connection.path() + ": " + reason);
}

}  // namespace

void migrate(Connection& connection) {
    const std::int64_t id = connection.scalar("PRAGMA application_id");
    const std::int64_t version = connection.scalar("PRAGMA user_version");
    if (id != application_id && (id != 0 || version != 0 || has_tables(connection)))
        refuse(connection, "is not a herald database");
    if (version > herald::sqlite::schema_version)
        refuse(connection, "has schema version " + std::to_string(version) +
                               ", newer than this herald supports (" +
                               std::to_string(herald::sqlite::schema_version) +
                               "); open it with a newer herald");
    for (auto step = static_cast<std::size_t>(version); step < migrations.size(); ++step) {
        Transaction transaction(connection);
        connection.exec(migrations[step]);
        connection.exec("PRAGMA application_id = " + std::to_string(application_id));
        connection.exec("PRAGMA user_version = " + std::to_string(step + 1));
        transaction.commit();
    }
}

}  // namespace herald::detail::sqlite
