#include "sqlite/group_commit.hpp"

#include <algorithm>

namespace herald::detail::sqlite {

GroupCommitter::GroupCommitter(Connection& connection, std::size_t max_batch)
    : connection_(connection), max_batch_(std::max<std::size_t>(max_batch, 1)) {}

void GroupCommitter::submit(Job& job) {
    std::unique_lock lock(mutex_);
    queue_.push_back(&job);
    if (leading_)
        job.wake.wait(lock, [&] { return job.done || job.leads; });
    else
        leading_ = true;
    if (!job.done)
        lead(job, lock);
    if (job.error)
        std::rethrow_exception(job.error);
}

/// Commits batches, oldest writes first, until `own` is committed; then hands the lead to the
/// oldest waiting writer, or gives it up when none waits. Called with the lock held.
void GroupCommitter::lead(Job& own, std::unique_lock<std::mutex>& lock) {
    while (!own.done) {
        const std::size_t take = std::min(queue_.size(), max_batch_);
        std::vector<Job*> batch(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(take));
        queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(take));
        lock.unlock();
        commit(batch);
        lock.lock();
        for (Job* j : batch) {
            j->done = true;
            if (j != &own)
                j->wake.notify_one();
        }
    }
    if (queue_.empty()) {
        leading_ = false;
    } else {
        queue_.front()->leads = true;
        queue_.front()->wake.notify_one();
    }
}

void GroupCommitter::commit(const std::vector<Job*>& batch) {
    try {
        Transaction transaction(connection_);
        if (batch.size() == 1)
            batch.front()->call(batch.front()->write, connection_);
        else
            for (Job* job : batch)
                run_in_savepoint(*job);
        transaction.commit();
    } catch (...) {
        // The transaction is rolled back: every write of the batch is lost, so each fails.
        for (Job* job : batch)
            if (!job->error)
                job->error = std::current_exception();
    }
}

void GroupCommitter::run_in_savepoint(Job& job) {
    Query(connection_, "SAVEPOINT write")->run();
    try {
        job.call(job.write, connection_);
    } catch (...) {
        job.error = std::current_exception();
        Query(connection_, "ROLLBACK TO write")->run();
    }
    Query(connection_, "RELEASE write")->run();
}

}  // namespace herald::detail::sqlite
