#include "sqlite/group_commit.hpp"

#include "util/exception_message.hpp"

#include <algorithm>
#include <string>

namespace herald::detail::sqlite {

GroupCommitter::GroupCommitter(Connection& connection, std::size_t max_batch,
                               std::function<void()> sync, CommitObserver observer)
    : connection_(connection),
      max_batch_(std::max<std::size_t>(max_batch, 1)),
      sync_(std::move(sync)),
      observer_(std::move(observer)) {
    if (sync_)
        syncer_ = std::jthread([this](std::stop_token stop) { sync_batches(stop); });
    committer_ = std::jthread([this](std::stop_token stop) { commit_batches(stop); });
}

GroupCommitter::~GroupCommitter() {
    // The committer first, so what it commits last still reaches the syncer.
    committer_.request_stop();
    committer_.join();
    if (syncer_.joinable()) {
        syncer_.request_stop();
        syncer_.join();
    }
}

std::shared_ptr<GroupCommitter::Batch> GroupCommitter::enqueue(Job& job) {
    std::shared_ptr<Batch> batch;
    {
        std::lock_guard lock(mutex_);
        if (queue_.empty() || queue_.back()->jobs.size() >= max_batch_)
            queue_.push_back(std::make_shared<Batch>());
        batch = queue_.back();
        batch->jobs.push_back(&job);
    }
    work_.notify_one();
    return batch;
}

void GroupCommitter::wait(const std::shared_ptr<Batch>& batch, const Job& job) {
    {
        std::unique_lock lock(batch->mutex);
        batch->wake.wait(lock, [&] { return batch->done; });
    }
    if (job.error)
        std::rethrow_exception(job.error);
}

/// The committer's thread: commits the oldest batch while any is queued, and hands it to the
/// syncer (or wakes its writers when commits are durable by themselves); stops once asked to
/// and nothing is left.
void GroupCommitter::commit_batches(std::stop_token stop) {
    std::unique_lock lock(mutex_);
    while (work_.wait(lock, stop, [&] { return !queue_.empty(); })) {
        if (sync_) {
            // Commit the next batch once the syncer took the last one: a sync covers every
            // commit made before it starts, so committing sooner would not make anything
            // durable sooner, only split what arrives meanwhile into smaller transactions.
            lock.unlock();
            {
                std::unique_lock sync_lock(sync_mutex_);
                taken_.wait(sync_lock, [&] { return unsynced_.empty(); });
            }
            lock.lock();
        }
        std::shared_ptr<Batch> batch = std::move(queue_.front());
        queue_.pop_front();
        lock.unlock();
        if (!sync_) {
            commit(*batch);
            finish(*batch);
        } else {
            std::unique_lock sync_lock(sync_mutex_);
            const std::exception_ptr failure = sync_failure_;
            sync_lock.unlock();
            if (failure)
                fail(*batch, failure);
            else
                commit(*batch);
            sync_lock.lock();
            unsynced_.push_back(std::move(batch));
            sync_lock.unlock();
            committed_.notify_one();
        }
        lock.lock();
    }
}

/// The syncer's thread: makes every batch committed so far durable with one sync, then wakes
/// their writers; stops once asked to and nothing is left.
void GroupCommitter::sync_batches(std::stop_token stop) {
    std::unique_lock lock(sync_mutex_);
    while (committed_.wait(lock, stop, [&] { return !unsynced_.empty(); })) {
        std::vector<std::shared_ptr<Batch>> batches;
        batches.swap(unsynced_);
        std::exception_ptr failure = sync_failure_;
        lock.unlock();
        taken_.notify_one();
        if (!failure) {
            const auto started = std::chrono::steady_clock::now();
            try {
                sync_();
            } catch (...) {
                failure = std::current_exception();
                observer_.logger.log(LogLevel::error, "sqlite.sync_failed",
                                     {{"reason", message_of(failure)}});
            }
            const auto took = std::chrono::steady_clock::now() - started;
            if (observer_.metrics && !failure)
                observer_.metrics->fsynced(took);
            if (took >= observer_.slow)
                observer_.logger.log(LogLevel::warning, "sqlite.slow_fsync",
                                     {{"batches", std::to_string(batches.size())},
                                      {"duration_ms", milliseconds_of(took)}});
        }
        if (failure) {
            // Refuse later writes before these writers hear of the failure: one that writes
            // again at once must not be committed.
            lock.lock();
            sync_failure_ = failure;
            lock.unlock();
        }
        for (const auto& batch : batches) {
            if (failure)
                fail(*batch, failure);
            finish(*batch);
        }
        lock.lock();
    }
}

void GroupCommitter::commit(Batch& batch) {
    const auto started = std::chrono::steady_clock::now();
    commit_unobserved(batch);
    const auto took = std::chrono::steady_clock::now() - started;
    if (observer_.metrics)
        observer_.metrics->group_committed(batch.jobs.size());
    if (took >= observer_.slow)
        observer_.logger.log(LogLevel::warning, "sqlite.commit_stalled",
                             {{"writes", std::to_string(batch.jobs.size())},
                              {"duration_ms", milliseconds_of(took)}});
}

void GroupCommitter::commit_unobserved(Batch& batch) {
    try {
        Transaction transaction(connection_);
        for (Job* job : batch.jobs)
            job->call(job->write, connection_);
        transaction.commit();
        return;
    } catch (...) {
        if (batch.jobs.size() == 1) {
            batch.jobs.front()->error = std::current_exception();
            return;
        }
    }
    // A write of the batch failed, or the commit did: find out which writes fail on their own.
    commit_isolated(batch);
}

/// Runs every write of `batch` in its own savepoint of one transaction, so a write that fails
/// is undone alone and keeps its error; the rest commit.
void GroupCommitter::commit_isolated(Batch& batch) {
    try {
        Transaction transaction(connection_);
        for (Job* job : batch.jobs) {
            Query(connection_, "SAVEPOINT write")->run();
            try {
                job->call(job->write, connection_);
            } catch (...) {
                job->error = std::current_exception();
                Query(connection_, "ROLLBACK TO write")->run();
            }
            Query(connection_, "RELEASE write")->run();
        }
        transaction.commit();
    } catch (...) {
        // The transaction is rolled back: every write of the batch is lost.
        fail(batch, std::current_exception());
    }
}

/// Every write of `batch` that has no error of its own fails with a copy of `error` (writers on
/// different threads never share one exception object, see `copy_of`).
void GroupCommitter::fail(Batch& batch, const std::exception_ptr& error) {
    for (Job* job : batch.jobs)
        if (!job->error)
            job->error = copy_of(error);
}

/// Tells the writers of `batch` it is done: calls the `on_done` of those that do not wait (each
/// may delete its job), then wakes the others.
void GroupCommitter::finish(Batch& batch) {
    for (Job* job : batch.jobs)
        if (job->on_done) {
            const std::function<void()> done = std::move(job->on_done);
            done();
        }
    {
        std::lock_guard lock(batch.mutex);
        batch.done = true;
    }
    batch.wake.notify_all();
}

}  // namespace herald::detail::sqlite
