#include "sqlite/checkpointer.hpp"

#include <sqlite3.h>

namespace herald::detail::sqlite {

Checkpointer::Checkpointer(Connection& writer, const std::string& path, const std::string& vfs,
                           int threshold_frames)
    : writer_(writer),
      connection_(path, /*create=*/false, vfs),
      threshold_frames_(threshold_frames),
      thread_([this](std::stop_token stop) { run(stop); }) {
    // A connection finds the file in WAL mode only once it has read it.
    connection_.scalar("PRAGMA user_version");
    sqlite3_wal_hook(writer_.handle(), &Checkpointer::on_commit, this);
}

Checkpointer::~Checkpointer() {
    sqlite3_wal_hook(writer_.handle(), nullptr, nullptr);
    thread_.request_stop();
    thread_.join();
}

int Checkpointer::on_commit(void* self, sqlite3* db, const char*, int frames) {
    auto& checkpointer = *static_cast<Checkpointer*>(self);
    if (frames >= backlog_factor * checkpointer.threshold_frames_) {
        // The thread fell behind a burst of writes: catch up in this commit, as SQLite would,
        // so the WAL can start over instead of growing without bound.
        sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    } else if (frames >= checkpointer.threshold_frames_) {
        std::lock_guard lock(checkpointer.mutex_);
        checkpointer.due_ = true;
        checkpointer.wake_.notify_one();
    }
    return SQLITE_OK;
}

void Checkpointer::run(std::stop_token stop) {
    std::unique_lock lock(mutex_);
    while (wake_.wait(lock, stop, [&] { return due_; })) {
        due_ = false;
        lock.unlock();
        // A checkpoint that fails (say, the disk is full) leaves the WAL to grow; the next
        // commit past the threshold tries again, and committed data is safe in the WAL.
        sqlite3_wal_checkpoint_v2(connection_.handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                  nullptr);
        lock.lock();
    }
}

}  // namespace herald::detail::sqlite
