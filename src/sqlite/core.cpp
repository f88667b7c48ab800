#include "sqlite/core.hpp"
#include "sqlite/schema.hpp"

#include <herald/error.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace herald::detail::sqlite {
namespace {

/// SQLite's own automatic checkpoint threshold, in WAL pages.
constexpr int checkpoint_frames = 1000;
/// What the WAL file is truncated to when it is reset (bytes).
constexpr std::int64_t wal_size_limit = 64 << 20;

void configure(Connection& connection, const herald::sqlite::Options& options) {
    connection.exec("PRAGMA busy_timeout = " + std::to_string(options.busy_timeout.count()));
    connection.exec(options.synchronous_full ? "PRAGMA synchronous = FULL"
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
                            path + "); one engine owns a database file");
        throw Error(errc::storage_failure, "",
                    path + ": cannot lock the lock file: " + std::strerror(error));
    }
}

LockFile::~LockFile() {
    ::close(fd_);  // releases the lock
}

Core::Core(std::string path, const herald::sqlite::Options& options)
    : path_(std::move(path)),
      lock_(path_),
      writer_(path_, /*create=*/true),
      committer_(writer_, options.max_batch),
      reader_(path_, /*create=*/false) {
    set_up_writer(writer_, options);
    checkpointer_ = std::make_unique<Checkpointer>(writer_, path_, checkpoint_frames);
    configure(reader_, options);
    reader_.exec("PRAGMA query_only = ON");
}

}  // namespace herald::detail::sqlite
