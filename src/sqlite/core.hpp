// The shared machinery of one open database: its lock file, a write connection behind the group
// committer and a read connection. The stores and the secret store all work through it.
#pragma once

#include "sqlite/checkpointer.hpp"
#include "sqlite/connection.hpp"
#include "sqlite/group_commit.hpp"

#include <herald/error.hpp>
#include <herald/sqlite/database.hpp>

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

struct sqlite3_file;

namespace herald::detail::sqlite {

/// An exclusive advisory lock (flock) on `<database>.lock`, held while the object lives; the
/// kernel drops it when the process dies. Refuses with herald::Error when someone holds it.
class LockFile {
  public:
    explicit LockFile(const std::string& database_path);
    ~LockFile();
    LockFile(const LockFile&) = delete;
    LockFile& operator=(const LockFile&) = delete;

  private:
    int fd_ = -1;
};

/// The WAL file of a database, open only to sync it: SQLite writes it through a handle of its
/// own, and a sync flushes the file whichever handle wrote to it. It is opened through the same
/// VFS as the database, so a VFS that adds a layer (or injects faults) sees the syncs as well.
class WalFile {
  public:
    /// Opens `<database_path>-wal`, which SQLite has created by now, through the VFS named
    /// `vfs` (empty: SQLite's default).
    WalFile(const std::string& database_path, const std::string& vfs);
    ~WalFile();
    WalFile(const WalFile&) = delete;
    WalFile& operator=(const WalFile&) = delete;
    /// Makes everything written to the WAL so far durable; throws herald::Error.
    void sync();

  private:
    std::string path_;
    std::unique_ptr<std::byte[]> storage_;  ///< the VFS's file object (`szOsFile` bytes)
    sqlite3_file* file_ = nullptr;          ///< in storage_, open
};

/// An open database file. With `Options::read_only` it is only its read connection: no lock,
/// no writer, no migration, and every write refused with `read_only_error`.
class Core {
  public:
    Core(std::string path, const herald::sqlite::Options& options);

    const std::string& path() const noexcept { return path_; }

    /// Runs `f(connection)` in a write transaction, committed (with others) before it returns.
    template <class F>
    void write(F&& f) {
        if (!committer_)
            throw read_only_error();
        committer_->run(std::forward<F>(f));
    }
    /// Runs `f(connection)` in a write transaction and calls `done(error)` once it is
    /// committed (see GroupCommitter::run_async); at once, with the error, when read-only.
    template <class F>
    void write_async(F f, std::function<void(std::exception_ptr)> done) {
        if (!committer_)
            return done(std::make_exception_ptr(read_only_error()));
        committer_->run_async(std::move(f), std::move(done));
    }
    /// Runs `f(connection)` on the read connection; it sees every committed write.
    template <class F>
    auto read(F&& f) const {
        std::lock_guard lock(read_mutex_);
        return f(reader_);
    }

  private:
    /// What a write to a database opened read-only throws.
    Error read_only_error() const;

    std::string path_;
    std::unique_ptr<LockFile> lock_;      ///< null when read-only
    std::unique_ptr<Connection> writer_;  ///< null when read-only
    mutable std::mutex read_mutex_;
    mutable Connection reader_;
    std::unique_ptr<Checkpointer> checkpointer_;  ///< once the file is in WAL mode
    std::unique_ptr<WalFile> wal_;                ///< when the committer syncs commits itself
    std::unique_ptr<GroupCommitter>
        committer_;  ///< last: it uses everything above; null when read-only
};

/// The encrypted secret store kept by `core` (secret_store.cpp). Throws herald::Error when
/// stored secrets are encrypted under keys `keys` lacks.
std::shared_ptr<herald::sqlite::EncryptedSecretStore> make_secret_store(
    std::shared_ptr<Core> core, std::shared_ptr<const herald::sqlite::KeyProvider> keys);

}  // namespace herald::detail::sqlite

struct herald::sqlite::EncryptedSecretStore::Backend {
    std::shared_ptr<detail::sqlite::Core> core;
};
