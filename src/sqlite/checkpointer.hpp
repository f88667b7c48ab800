// Copying the WAL back into the database file off the commit path.
//
// SQLite checkpoints inside the commit that pushes the WAL past 1000 pages, so that commit —
// and every writer waiting for its group — would stall for the copy and its fsync. Instead the
// writer connection's commits report the WAL's size to a `Checkpointer`, which wakes its own
// thread to run a PASSIVE checkpoint (it never blocks writers or readers) on a connection of
// its own. Should a burst of writes outrun the thread, the commit that finds the WAL
// `backlog_factor` times past the threshold checkpoints itself, as SQLite would have.
#pragma once

#include "sqlite/connection.hpp"

#include <condition_variable>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>

namespace herald::detail::sqlite {

class Checkpointer {
  public:
    /// Watches `writer`'s commits (replacing SQLite's automatic checkpoints) and checkpoints
    /// `path`, already in WAL mode and opened through the VFS named `vfs`, once the WAL holds
    /// `threshold_frames` pages.
    Checkpointer(Connection& writer, const std::string& path, const std::string& vfs,
                 int threshold_frames);
    /// Stops the thread; SQLite checkpoints what is left when the last connection closes.
    ~Checkpointer();
    Checkpointer(const Checkpointer&) = delete;
    Checkpointer& operator=(const Checkpointer&) = delete;

  private:
    static constexpr int backlog_factor = 8;

    static int on_commit(void* self, struct sqlite3* db, const char* schema, int frames);
    void run(std::stop_token stop);

    Connection& writer_;
    Connection connection_;
    const int threshold_frames_;
    std::mutex mutex_;
    std::condition_variable_any wake_;
    bool due_ = false;
    std::jthread thread_;  ///< last: started when everything it uses exists
};

}  // namespace herald::detail::sqlite
