// herald/postgres/database.hpp — herald's state in PostgreSQL: several engines, one database.
//
// `open` connects with a libpq connection string (a URI `postgresql://user@host/db` or
// `host=... dbname=...`; TLS through its `sslmode`, `sslrootcert`, ... keywords) and returns a
// `Database`, a `herald::Storage` that keeps automations, integrations, the outbox, the history
// and run trigger state in one schema, and hands out the secret store that encrypts values at
// rest with the same key provider as the SQLite backend:
//
// clang-format off
//     auto store = herald::postgres::open("postgresql://herald@db.internal/tracking",
//                                         {.schema = "herald"});
//     herald::Engine engine{io.get_executor(),
//                           {.storage = store,
//                            .secrets = store->secrets(herald::key_from_environment())}};
// clang-format on
//
// Every write is one transaction, committed before the call returns (or, for the `_async`
// calls, before `done` runs on a worker thread). Several processes may open one database: a
// claim takes due deliveries with `FOR UPDATE SKIP LOCKED`, so two claimers never lease the
// same delivery, and a lease that ends makes the delivery claimable by anyone. The schema is
// versioned: `open` creates or migrates it and refuses one written by a newer herald. Requires
// the `herald::postgres` target (libpq).
#pragma once

#include <herald/key_provider.hpp>
#include <herald/logger.hpp>
#include <herald/metrics.hpp>
#include <herald/secret_store.hpp>
#include <herald/storage.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace herald::postgres {

/// The schema version this build writes; `open` refuses a schema with a newer one.
inline constexpr int schema_version = 8;

/// How a database is opened. Plain configuration.
struct Options {
    /// The PostgreSQL schema herald's tables live in, created when missing, so a host keeps
    /// them apart from its own: lowercase letters, digits and `_`.
    std::string schema = "herald";
    /// Connections opened at `open` and shared by every call (the workers' included).
    std::size_t connections = 4;
    /// Threads that run the `_async` calls, each on a connection of its own while it runs.
    std::size_t workers = 2;
    /// The most `_async` writes one transaction takes: writes that arrive while a transaction
    /// commits are committed together in the next (group commit); when one of them fails, the
    /// batch is written again with each write in a savepoint of its own, so it fails alone.
    std::size_t max_batch = 512;
    /// Told of group commits slower than `slow_write` ("postgres.commit_stalled") and of
    /// batches whose transaction failed ("postgres.batch_failed"); default: nothing.
    Logger logger;
    /// Where group-commit batch sizes are counted (`herald_group_commit_writes`); null: nowhere.
    std::shared_ptr<Metrics> metrics;
    std::chrono::milliseconds slow_write{1000};
};

class EncryptedSecretStore;

/// A herald schema in a PostgreSQL database. Implements every store of `herald::Storage`;
/// thread-safe. Owned through the `shared_ptr` that `open` returns; secret stores it hands out
/// keep it alive.
class Database final : public Storage {
  public:
    ~Database() override;
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    AutomationStore& automations() override;
    HistoryStore& history() override;
    IntegrationStore& integrations() override;
    OutboxStore& outbox() override;
    TriggerStateStore& trigger_state() override;
    /// Appends the firings, enqueues the deliveries and applies the trigger state changes in
    /// one transaction.
    void record_publish(const PublishRecord& record) override;
    /// The same write, group-committed on a worker thread with the other `_async` writes
    /// waiting; `done` runs there.
    void record_publish_async(const PublishRecord& record,
                              std::function<void(std::exception_ptr)> done) override;
    /// Settles the outbox, the history and the streaks in one transaction.
    SettleResult settle(const SettleBatch& batch) override;
    /// The same write, group-committed on a worker thread; `done` runs there.
    void settle_async(const SettleBatch& batch,
                      std::function<void(std::exception_ptr, SettleResult)> done) override;
    /// Claims and reads `next_due`, group-committed on a worker thread; `done` runs there
    /// once the lease is committed.
    void claim_async(Timestamp now, std::size_t limit, Timestamp lease_until,
                     std::function<void(std::exception_ptr, ClaimResult)> done) override;
    /// Through `LISTEN` on a connection of its own (opened by the first watch, made again
    /// when lost), told by triggers that `NOTIFY` on the channel named as the schema when
    /// deliveries are enqueued or automations change, by any process.
    std::unique_ptr<StoreWatch> watch(StoreChange what, std::function<void()> listener) override;
    /// Several engines may prune one database at once: each deletes only what is still due to
    /// go when its statement runs, and expunging bodies takes the `retention` row's lock, so
    /// passes over bodies take turns. Deleted rows are reclaimed by PostgreSQL's autovacuum.
    PruneResult prune(const PruneRequest& request) override;

    /// The encrypted secret store of this database, reading keys from `keys`. Throws
    /// herald::Error (storage_failure, field "key") when stored secrets are encrypted under a
    /// key that `keys` does not have.
    std::shared_ptr<EncryptedSecretStore> secrets(std::shared_ptr<const KeyProvider> keys);

    /// The schema herald's tables are in.
    const std::string& schema() const noexcept;

    struct State;

  private:
    friend std::shared_ptr<Database> open(const std::string&, const Options&);
    explicit Database(std::shared_ptr<State> state);
    std::shared_ptr<State> state_;
};

/// Secrets in the database's `secrets` table, each value sealed with AES-256-GCM under the key
/// provider's current key, bound to its entity and name (herald/key_provider.hpp); plaintext
/// never reaches the server. Thread-safe. A value that fails authentication or whose key the
/// provider lacks throws herald::Error (storage_failure, field "secret") naming the secret,
/// never its value.
class EncryptedSecretStore final : public SecretStore {
  public:
    EncryptedSecretStore(std::shared_ptr<Database::State> state,
                         std::shared_ptr<const KeyProvider> keys);
    ~EncryptedSecretStore() override;

    void put(std::string_view entity, std::string_view name, const StoredSecret& secret) override;
    std::optional<StoredSecret> get(std::string_view entity, std::string_view name) const override;
    bool contains(std::string_view entity, std::string_view name) const override;
    bool erase(std::string_view entity, std::string_view name) override;
    std::vector<std::string> names(std::string_view entity) const override;

    /// Re-encrypts every value not under the current key with it, in one transaction.
    /// Returns how many values were re-encrypted.
    std::size_t rotate_key();

  private:
    std::shared_ptr<Database::State> state_;
    std::shared_ptr<const KeyProvider> keys_;
};

/// Connects to the database `conninfo` names and creates or migrates herald's schema. Throws
/// herald::Error (storage_failure) with the server's reason — never the connection string,
/// which may hold a password — when it cannot connect, or the schema comes from a newer herald;
/// (invalid_argument) for a bad option.
std::shared_ptr<Database> open(const std::string& conninfo, const Options& options = {});

}  // namespace herald::postgres
