// herald/sqlite/database.hpp — herald's state in one SQLite file: the embedded default backend.
//
// `open` returns a `Database`, a `herald::Storage` that keeps automations, integrations, the
// outbox, the history and run trigger state in one file, and hands out the persistent secret
// store that encrypts values at rest:
//
// clang-format off
//     auto store = herald::sqlite::open("herald.db");
//     herald::Engine engine{io.get_executor(),
//                           {.storage = store,
//                            .secrets = store->secrets(herald::sqlite::key_from_environment())}};
// clang-format on
//
// Durability: every write is committed before the call returns (WAL journal; with the default
// `synchronous_full` each commit is fsynced first, so it survives power loss as well as
// `kill -9`). Writes that arrive while a commit is in progress are committed together in the
// next transaction (group commit), so concurrent publishers share transactions and fsyncs; the
// fsync of one batch runs while the next batch commits. `Engine::async_publish` lets one thread
// have many writes in flight.
//
// One process owns a database file: `open` takes an exclusive lock on `<path>.lock` and refuses
// a second opener (in this process or another) with a clear error; the lock goes with the
// `Database`, or with the process when it dies. `Options::read_only` opens the file beside its
// owner instead, to read what it has committed (an operator's tool next to a running engine). The
// schema is versioned: `open` migrates an older file and refuses one written by a newer herald.
// Requires the `herald::sqlite` target.
#pragma once

#include <herald/logger.hpp>
#include <herald/metrics.hpp>
#include <herald/sqlite/key_provider.hpp>
#include <herald/sqlite/secret_store.hpp>
#include <herald/storage.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>

namespace herald::sqlite {

/// The schema version this build writes; `open` refuses files with a newer one.
inline constexpr int schema_version = 7;

/// How a database is opened. Plain configuration; the defaults suit a server.
struct Options {
    /// How long a statement waits for a lock held by another connection (e.g. the SQLite shell
    /// reading the file) before it fails with storage_failure.
    std::chrono::milliseconds busy_timeout{5000};
    /// true: every commit is fsynced (PRAGMA synchronous=FULL) and survives power loss.
    /// false (NORMAL): commits survive a crash of the process but the last ones may be lost
    /// when the machine loses power.
    bool synchronous_full = true;
    /// The most writes one group-commit transaction takes; 1 commits every write on its own,
    /// with its own fsync (no group commit).
    std::size_t max_batch = 1024;
    /// Bounds the file to this many pages (PRAGMA max_page_count; 4 KiB pages); writes beyond
    /// it fail with storage_failure ("database or disk is full"). 0: SQLite's default.
    std::uint64_t max_page_count = 0;
    /// Told of fsyncs and group commits slower than `slow_write` ("sqlite.slow_fsync",
    /// "sqlite.commit_stalled") and of a failed fsync; default: nothing.
    Logger logger;
    /// Where group-commit batch sizes and fsync durations are counted; null: nowhere.
    std::shared_ptr<Metrics> metrics;
    std::chrono::milliseconds slow_write{1000};
    /// Opens the file to read it only, beside the engine (or tool) that holds it: no lock is
    /// taken and nothing is written — not even a migration, so the file must have this
    /// build's schema, and a missing file is not created. Reads see every transaction the
    /// holder has committed (WAL readers never block its writer, nor it them); every write
    /// throws herald::Error (storage_failure) saying the database was opened read-only.
    bool read_only = false;
    /// The name of a registered SQLite VFS (`sqlite3_vfs_register`) to open the file through —
    /// a host's own file layer (encryption, a special disk) or a test's fault injection. Every
    /// read, write and sync goes through it, the group committer's fsync of the WAL included.
    /// Empty: SQLite's default. A name that is not registered fails `open`.
    std::string vfs;
};

/// A herald database file. Implements every store of `herald::Storage`; thread-safe. Reads
/// run on their own connection, so they proceed while a write commits. Owned through the
/// `shared_ptr` that `open` returns; secret stores it hands out keep it alive.
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
    /// Queues that transaction for the next group commit and returns; `done` runs on the
    /// committer's or the syncer's thread.
    void record_publish_async(const PublishRecord& record,
                              std::function<void(std::exception_ptr)> done) override;
    /// Settles the outbox, the history and the streaks in one transaction.
    SettleResult settle(const SettleBatch& batch) override;
    /// Queues that transaction for the next group commit and returns; `done` runs on the
    /// committer's or the syncer's thread.
    void settle_async(const SettleBatch& batch,
                      std::function<void(std::exception_ptr, SettleResult)> done) override;
    /// Queues the claim (a write: it leases) and its `next_due` read for the next group commit
    /// and returns; `done` runs on the committer's or the syncer's thread once the lease is
    /// durable.
    void claim_async(Timestamp now, std::size_t limit, Timestamp lease_until,
                     std::function<void(std::exception_ptr, ClaimResult)> done) override;
    /// Each batch is a write of its own, group-committed with whatever else is being written.
    /// Deleted rows leave free pages that later writes reuse, so a pruned file stops growing
    /// rather than shrinking; `VACUUM` (with herald stopped) gives the room back.
    PruneResult prune(const PruneRequest& request) override;

    /// The encrypted secret store of this database, reading keys from `keys`. Throws
    /// herald::Error (storage_failure, field "key") when stored secrets are encrypted under a
    /// key that `keys` does not have — a wrong key is found at start, not at the first send.
    std::shared_ptr<EncryptedSecretStore> secrets(std::shared_ptr<const KeyProvider> keys);

    const std::filesystem::path& path() const noexcept;

    struct State;

  private:
    friend std::shared_ptr<Database> open(const std::filesystem::path&, const Options&);
    explicit Database(std::shared_ptr<State> state);
    std::shared_ptr<State> state_;
};

/// Opens the database at `path`, creating it when missing, and migrates its schema. Throws
/// herald::Error (storage_failure) naming the file and the reason when it cannot be opened for
/// writing, is not a herald database, is corrupt, comes from a newer herald, or is open
/// elsewhere. With `Options::read_only`: see there.
std::shared_ptr<Database> open(const std::filesystem::path& path, const Options& options = {});

}  // namespace herald::sqlite
