// Group commit for the asynchronous writes: writes that wait while another batch commits are
// committed together in the next transaction, so concurrent publishers and settlements share
// commits (and the server's WAL flushes) and the publishes' rows share statements, but fail
// alone: a batch in which a write fails is run again, each write in a savepoint of its own.
#pragma once

#include "postgres/connection.hpp"
#include "postgres/publish_rows.hpp"
#include "storage/commit_observer.hpp"

#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>

namespace herald::detail::postgres {

class WriteQueue {
  public:
    /// Writes on the connection, inside its batch's transaction, and adds rows to the batch's
    /// publishes, which are inserted once every write of the batch ran.
    using Write = std::function<void(Connection&, PublishRows&)>;
    using Done = std::function<void(std::exception_ptr)>;

    /// Batches of at most `max_batch` writes, at most `batches` of them committing at once (one
    /// per pool worker); `observer` hears how each batch's commit went.
    WriteQueue(Pool& pool, std::size_t max_batch, std::size_t batches,
               CommitObserver observer = {});

    /// Queues `write` and returns. `done(error)` runs on a pool worker once the transaction that
    /// holds it committed (error null), or failed: the write's own error, or the transaction's
    /// (then nothing of the batch was written). A write may run more than once: once more,
    /// in a transaction of its own or a savepoint, when it or another write of its batch
    /// throws; what it hands back it sets each time, not adds to.
    void push(Write write, Done done);

  private:
    struct Item {
        Write write;
        Done done;
        std::exception_ptr error;
    };
    void drain();
    void observe(std::size_t writes, std::chrono::nanoseconds took,
                 const std::exception_ptr& lost) const;
    void commit(std::deque<Item>& batch);
    static void run_together(Connection& c, std::deque<Item>& batch);
    static void run_isolated(Connection& c, std::deque<Item>& batch);

    Pool& pool_;
    const std::size_t max_batch_;
    const std::size_t batches_;
    const CommitObserver observer_;
    std::mutex mutex_;
    std::deque<Item> waiting_;
    std::size_t draining_ = 0;  ///< drain jobs posted and not finished
};

}  // namespace herald::detail::postgres
