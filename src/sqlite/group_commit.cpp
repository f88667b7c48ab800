#include "sqlite/group_commit.hpp"

#include <algorithm>

namespace herald::detail::sqlite {

GroupCommitter::GroupCommitter(Connection& connection, std::size_t max_batch)
    : connection_(connection), max_batch_(std::max<std::size_t>(max_batch, 1)) {}

void GroupCommitter::submit(Job& job) {
    std::unique_lock lock(mutex_);
    queue_.push_back(&job);
    while (!job.done) {
        if (leading_) {
            committed_.wait(lock);
            continue;
        }
        leading_ = true;
        const auto take = static_cast<std::ptrdiff_t>(std::min(queue_.size(), max_batch_));
        std::deque<Job*> batch(queue_.begin(), queue_.begin() + take);
        queue_.erase(queue_.begin(), queue_.begin() + take);
        lock.unlock();
        commit(batch);
        lock.lock();
        for (Job* j : batch)
            j->done = true;
        leading_ = false;
        committed_.notify_all();
    }
    if (job.error)
        std::rethrow_exception(job.error);
}

void GroupCommitter::commit(std::deque<Job*>& batch) {
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
