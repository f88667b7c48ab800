// A SQLite VFS over the system's own whose writes and syncs fail on demand, as a failing disk's
// would: what the SQLite fault tests open their databases through (`sqlite::Options::vfs`).
//
//     herald::test::FaultyVfs vfs;                    // registered as "herald-faulty"
//     auto store = herald::sqlite::open(file, {.vfs = vfs.name()});
//     vfs.fail_writes(SQLITE_IOERR_WRITE);            // every xWrite fails from now on
//     ...
//     vfs.fail_writes(SQLITE_OK);                     // the disk works again
#pragma once

#include <atomic>
#include <memory>
#include <string>

struct sqlite3_vfs;

namespace herald::test {

/// Registers a VFS named `name` that forwards every call to SQLite's default VFS, except that
/// writes (xWrite, xTruncate) and syncs (xSync) fail with the result code set for them. Every
/// file opened through it is affected: the database, its WAL, and the WAL that herald's group
/// committer syncs. Unregisters itself when destroyed; databases opened through it must be
/// closed first.
class FaultyVfs {
  public:
    explicit FaultyVfs(std::string name = "herald-faulty");
    ~FaultyVfs();
    FaultyVfs(const FaultyVfs&) = delete;
    FaultyVfs& operator=(const FaultyVfs&) = delete;

    const std::string& name() const noexcept { return name_; }

    /// From now on, every write fails with `code` (e.g. SQLITE_IOERR_WRITE, SQLITE_FULL);
    /// SQLITE_OK lets writes through again.
    void fail_writes(int code) noexcept { write_fault_ = code; }
    /// From now on, every sync fails with `code` (e.g. SQLITE_IOERR_FSYNC); SQLITE_OK lets
    /// syncs through again.
    void fail_syncs(int code) noexcept { sync_fault_ = code; }

    /// How many writes and syncs were refused so far.
    int refused_writes() const noexcept { return refused_writes_; }
    int refused_syncs() const noexcept { return refused_syncs_; }

  private:
    struct Methods;  // the VFS's and its files' entry points, in faulty_vfs.cpp

    std::string name_;
    sqlite3_vfs* system_;               ///< SQLite's default VFS, which does the work
    std::unique_ptr<sqlite3_vfs> vfs_;  ///< this one, registered as name_
    std::atomic<int> write_fault_ = 0;
    std::atomic<int> sync_fault_ = 0;
    std::atomic<int> refused_writes_ = 0;
    std::atomic<int> refused_syncs_ = 0;
};

}  // namespace herald::test
