// Group commit: every write of the SQLite backend runs through one `GroupCommitter`, which
// gathers the writes that arrive while a commit is in progress and commits them together in
// the next transaction, so durability costs one fsync per batch rather than one per write.
//
// There is no committer thread: the first caller to find no commit in progress leads, taking
// every queued write into one transaction; the others wait until their write's batch is
// committed. When a batch is committed its writers are woken, and the oldest waiting writer,
// if any, leads the next batch — each writer is woken once or twice, never by every commit.
// Each write of a batch runs inside its own savepoint, so one write that fails (say, a
// duplicate id) is undone alone and reports its error to its own caller.
#pragma once

#include "sqlite/connection.hpp"

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <mutex>
#include <type_traits>
#include <vector>

namespace herald::detail::sqlite {

class GroupCommitter {
  public:
    /// `max_batch` bounds the writes of one transaction; 1 commits every write on its own.
    GroupCommitter(Connection& connection, std::size_t max_batch);

    /// Runs `write(connection)` in a transaction and returns once that transaction is
    /// committed; rethrows what `write` threw (then nothing it wrote is kept), or the commit's
    /// failure. Thread-safe.
    template <class Write>
    void run(Write&& write) {
        using W = std::remove_reference_t<Write>;
        Job job{.write = &write, .call = [](void* w, Connection& c) { (*static_cast<W*>(w))(c); }};
        submit(job);
    }

  private:
    /// One caller's write, on its stack while it waits.
    struct Job {
        void* write;
        void (*call)(void*, Connection&);
        std::exception_ptr error = nullptr;
        bool done = false;
        bool leads = false;  ///< handed the lead: commits the next batch
        std::condition_variable wake;
    };

    void submit(Job& job);
    void lead(Job& own, std::unique_lock<std::mutex>& lock);
    void commit(const std::vector<Job*>& batch);
    void run_in_savepoint(Job& job);

    Connection& connection_;
    const std::size_t max_batch_;
    std::mutex mutex_;
    std::deque<Job*> queue_;  ///< waiting for a batch, oldest first
    bool leading_ = false;
};

}  // namespace herald::detail::sqlite
