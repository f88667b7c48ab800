// Group commit: every write of the SQLite backend runs through one `GroupCommitter`, which
// gathers the writes that arrive while a commit is in progress and commits them together in
// the next transaction, so durability costs one fsync per batch rather than one per write.
//
// Writers queue their write and sleep; the committer's own thread takes the oldest batch, runs
// its writes in one transaction and commits. A write that throws rolls the transaction back;
// the batch is then run again with each write in its own savepoint, so that write fails alone
// and reports its error to its own caller while the others commit.
//
// With a `sync` step (an fsync of the WAL), commits are made durable on a second thread: while
// one batch's sync waits for the disk, the committer commits the next batch (everything that
// arrived meanwhile), which the next sync covers. A batch's writers are woken once a sync
// that began after its commit has finished, so a write never returns before it is durable.
// The writes of one transaction run on the committer's thread, and everything that reaches the
// caller passes through a sync first; a reader on another connection may see a commit before
// it is durable.
#pragma once

#include "sqlite/connection.hpp"
#include "storage/commit_observer.hpp"

#include <herald/logger.hpp>
#include <herald/metrics.hpp>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <stop_token>
#include <thread>
#include <type_traits>
#include <vector>

namespace herald::detail::sqlite {

using detail::CommitObserver;  ///< here also told of fsync durations

class GroupCommitter {
  public:
    /// Commits on `connection`, which only the committer's thread uses from now on. `max_batch`
    /// bounds the writes of one transaction; 1 commits every write on its own. `sync`, when
    /// set, makes every commit before it durable; it throws herald::Error when it cannot, and
    /// from then on every write fails with that error (the disk can no longer be trusted).
    GroupCommitter(Connection& connection, std::size_t max_batch, std::function<void()> sync,
                   CommitObserver observer = {});
    /// Commits and syncs what is queued, then stops the threads.
    ~GroupCommitter();
    GroupCommitter(const GroupCommitter&) = delete;
    GroupCommitter& operator=(const GroupCommitter&) = delete;

    /// Runs `write(connection)` in a transaction on the committer's thread and returns once
    /// that transaction is committed (and synced); rethrows what `write` threw (then nothing it
    /// wrote is kept), or the commit's or the sync's failure. `write` may run twice (its first
    /// transaction rolled back because another write of its batch failed): it must set its
    /// results, not add to them. Thread-safe.
    template <class Write>
    void run(Write&& write) {
        using W = std::remove_reference_t<Write>;
        Job job{.write = &write, .call = [](void* w, Connection& c) { (*static_cast<W*>(w))(c); }};
        wait(enqueue(job), job);
    }

    /// Like `run`, without waiting: calls `done(error)` (null when the write committed) on the
    /// committer's or the syncer's thread once it would have returned. `done` must not block.
    template <class Write>
    void run_async(Write write, std::function<void(std::exception_ptr)> done) {
        struct Owned {
            Job job;
            Write write;
        };
        auto* owned = new Owned{Job{}, std::move(write)};
        owned->job.write = &owned->write;
        owned->job.call = [](void* w, Connection& c) { (*static_cast<Write*>(w))(c); };
        owned->job.on_done = [owned, done = std::move(done)] {
            const std::unique_ptr<Owned> release(owned);
            done(std::move(owned->job.error));
        };
        enqueue(owned->job);
    }

  private:
    /// One caller's write: on its stack while it waits, or on the heap with an `on_done`.
    struct Job {
        void* write;
        void (*call)(void*, Connection&);
        std::exception_ptr error = nullptr;
        std::function<void()> on_done;  ///< set when no caller waits; may delete the job
    };
    /// The writes committed in one transaction; their callers sleep until it is `done`.
    struct Batch {
        std::vector<Job*> jobs;
        std::mutex mutex;
        std::condition_variable wake;
        bool done = false;
    };

    std::shared_ptr<Batch> enqueue(Job& job);
    static void wait(const std::shared_ptr<Batch>& batch, const Job& job);
    void commit_batches(std::stop_token stop);
    void sync_batches(std::stop_token stop);
    /// Commits `batch`, counted and timed.
    void commit(Batch& batch);
    void commit_unobserved(Batch& batch);
    void commit_isolated(Batch& batch);
    static void fail(Batch& batch, const std::exception_ptr& error);
    static void finish(Batch& batch);

    Connection& connection_;
    const std::size_t max_batch_;
    const std::function<void()> sync_;
    const CommitObserver observer_;

    std::mutex mutex_;
    std::condition_variable_any work_;
    std::deque<std::shared_ptr<Batch>> queue_;  ///< oldest first; the last one still fills

    std::mutex sync_mutex_;
    std::condition_variable_any committed_;
    std::condition_variable taken_;                 ///< the syncer took what was committed
    std::vector<std::shared_ptr<Batch>> unsynced_;  ///< committed, oldest first
    std::exception_ptr sync_failure_;               ///< once set, every write fails with it

    std::jthread syncer_;  ///< started when everything it uses exists
    std::jthread committer_;
};

}  // namespace herald::detail::sqlite
