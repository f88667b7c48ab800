#include "sqlite/core.hpp"
#include "sqlite/schema.hpp"

#include <herald/error.hpp>

#include <sqlite3.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace herald::detail::sqlite {
namespace {

/// SQLite's own automatic checkpoint threshold, in WAL pages.
constexpr int checkpoint_frames = 1000;
/// What the WAL file is truncated to when it is reset (bytes).
constexpr std::int64_t wal_size_limit = 64 << 20;

/// Whether SQLite fsyncs the WAL in every commit itself: when every commit must be durable and
/// commits are not grouped. Group commit syncs on a thread of its own (`WalFile`).
bool sqlite_syncs_commits(const herald::sqlite::Options& options) {
    return options.synchronous_full && options.max_batch <= 1;
}

void configure(Connection& connection, const herald::sqlite::Options& options) {
    connection.exec("PRAGMA busy_timeout = " + std::to_string(options.busy_timeout.count()));
    // Savepoint journals stay in memory instead of temporary files.
    connection.exec("PRAGMA temp_store = MEMORY");
    connection.exec(sqlite_syncs_commits(options) ? "PRAGMA synchronous = FULL"
                                                  : "PRAGMA synchronous = NORMAL");
}

std::string journal_mode(Connection& connection, std::string_view mode) {
    Query query(connection, "PRAGMA journal_mode = " + std::string(mode));
    return query->step() ? std::string(query->text(0)) : std::string();
}

void set_up_writer(Connection& connection, const herald::sqlite::Options& options) {
    if (connection.read_only())
        throw Error(errc::storage_failure, "",
                    connection.path() + ": the database file is read-only; herald writes to it");
    configure(connection, options);
    if (journal_mode(connection, "WAL") != "wal")
        throw Error(errc::storage_failure, "",
                    connection.path() + ": cannot switch the journal to WAL mode");
    // A burst of writes can grow the WAL past the checkpointer; give the space back after it.
    connection.exec("PRAGMA journal_size_limit = " + std::to_string(wal_size_limit));
    if (options.max_page_count > 0)
        connection.exec("PRAGMA max_page_count = " + std::to_string(options.max_page_count));
    migrate(connection);
}

/// The read connection: the only one of a read-only open, which never creates the file.
Connection open_reader(const std::string& path, const herald::sqlite::Options& options) {
    if (options.read_only && !std::filesystem::exists(path))
        throw Error(errc::storage_failure, "",
                    path + ": no such database file (a read-only open never creates one)");
    return Connection(path, /*create=*/false, options.vfs);
}

}  // namespace

LockFile::LockFile(const std::string& database_path) {
    const std::string path = database_path + ".lock";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0)
        throw Error(errc::storage_failure, "",
                    path + ": cannot create the lock file: " + std::strerror(errno));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        const int error = errno;
        ::close(fd_);
        if (error == EWOULDBLOCK)
            throw Error(errc::storage_failure, "",
                        database_path +
                            ": the database is already open (another process, or another "
                            "herald::sqlite::open in this one, holds " +
                            path +
                            "); one engine owns a database file: stop it to change the file "
                            "from elsewhere, or open the file read-only to read it beside it");
        throw Error(errc::storage_failure, "",
                    path + ": cannot lock the lock file: " + std::strerror(error));
    }
}

LockFile::~LockFile() {
    ::close(fd_);  // releases the lock
}

WalFile::WalFile(const std::string& database_path, const std::string& vfs)
    : path_(database_path + "-wal") {
    sqlite3_vfs* system = sqlite3_vfs_find(vfs.empty() ? nullptr : vfs.c_str());
    if (!system)
        throw Error(errc::storage_failure, "",
                    database_path + ": no SQLite VFS is registered as \"" + vfs + "\"");
    storage_ = std::make_unique<std::byte[]>(static_cast<std::size_t>(system->szOsFile));
    auto* file = reinterpret_cast<sqlite3_file*>(storage_.get());
    int opened = 0;
    if (const int rc = system->xOpen(system, path_.c_str(), file,
                                     SQLITE_OPEN_READWRITE | SQLITE_OPEN_WAL, &opened);
        rc != SQLITE_OK) {
        // A failed xOpen may still have set up methods that need closing.
        if (file->pMethods)
            file->pMethods->xClose(file);
        throw Error(errc::storage_failure, "",
                    path_ + ": cannot open the WAL to sync it: " + sqlite3_errstr(rc));
    }
    file_ = file;
}

WalFile::~WalFile() {
    file_->pMethods->xClose(file_);
}

void WalFile::sync() {
    const int rc = file_->pMethods->xSync(file_, SQLITE_SYNC_NORMAL | SQLITE_SYNC_DATAONLY);
    if (rc == SQLITE_OK)
        return;
    int error = 0;
    file_->pMethods->xFileControl(file_, SQLITE_FCNTL_LAST_ERRNO, &error);
    throw Error(errc::storage_failure, "",
                path_ + ": syncing the WAL to disk failed: " +
                    (error != 0 ? std::strerror(error) : sqlite3_errstr(rc)) +
                    "; writes are refused until the database is opened again");
}

Core::Core(std::string path, const herald::sqlite::Options& options)
    : path_(std::move(path)),
      lock_(options.read_only ? nullptr : std::make_unique<LockFile>(path_)),
      writer_(options.read_only
                  ? nullptr
                  : std::make_unique<Connection>(path_, /*create=*/true, options.vfs)),
      reader_(open_reader(path_, options)) {
    if (writer_) {
        set_up_writer(*writer_, options);
        checkpointer_ =
            std::make_unique<Checkpointer>(*writer_, path_, options.vfs, checkpoint_frames);
    }
    configure(reader_, options);
    reader_.exec("PRAGMA query_only = ON");
    if (!writer_) {
        check_schema(reader_);
        return;
    }
    std::function<void()> sync;
    if (options.synchronous_full && !sqlite_syncs_commits(options)) {
        wal_ = std::make_unique<WalFile>(path_, options.vfs);
        sync = [wal = wal_.get()] { wal->sync(); };
    }
    committer_ = std::make_unique<GroupCommitter>(
        *writer_, options.max_batch, std::move(sync),
        CommitObserver{
            .logger = options.logger, .metrics = options.metrics, .slow = options.slow_write});
}

Error Core::read_only_error() const {
    return Error(errc::storage_failure, "",
                 path_ +
                     ": the database was opened read-only (sqlite::Options::read_only); "
                     "writes go through the process that holds it");
}

}  // namespace herald::detail::sqlite
