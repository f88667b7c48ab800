#include "postgres/write_queue.hpp"

#include "util/exception_message.hpp"

#include <algorithm>
#include <chrono>
#include <utility>

namespace herald::detail::postgres {

WriteQueue::WriteQueue(Pool& pool, std::size_t max_batch, std::size_t batches,
                       CommitObserver observer)
    : pool_(pool),
      max_batch_(std::max<std::size_t>(max_batch, 1)),
      batches_(std::max<std::size_t>(batches, 1)),
      observer_(std::move(observer)) {}

void WriteQueue::push(Write write, Done done) {
    bool post = false;
    {
        std::lock_guard lock(mutex_);
        waiting_.push_back({std::move(write), std::move(done), nullptr});
        if (draining_ < batches_) {
            ++draining_;
            post = true;
        }
    }
    if (post)
        pool_.post([this] { drain(); });
}

namespace {

/// Thrown out of a batch's transaction, to roll it back, when one of its writes failed.
struct WriteFailed {};

}  // namespace

void WriteQueue::run_together(Connection& c, std::deque<Item>& batch) {
    try {
        PublishRows rows;
        for (Item& item : batch)
            item.write(c, rows);
        rows.insert(c);
    } catch (...) {
        // A batch of one fails with its write's error, and a lost connection loses the batch:
        // with what lost it, not with the rollback's "no connection to the server".
        if (batch.size() == 1 || !c.healthy())
            throw;
        throw WriteFailed{};
    }
}

void WriteQueue::run_isolated(Connection& c, std::deque<Item>& batch) {
    for (Item& item : batch) {
        c.exec("SAVEPOINT herald_write");
        try {
            PublishRows rows;
            item.write(c, rows);
            rows.insert(c);
            c.exec("RELEASE SAVEPOINT herald_write");
        } catch (...) {
            item.error = std::current_exception();
            if (!c.healthy())
                throw;
            c.exec("ROLLBACK TO SAVEPOINT herald_write");
        }
    }
}

void WriteQueue::commit(std::deque<Item>& batch) {
    // Writes seldom fail, and two savepoint statements a write would cost two round trips
    // each: a batch runs without them first, and only when one of its writes failed again,
    // each write in a savepoint, so that the failing one fails alone.
    try {
        pool_.transact([&](Connection& c) { run_together(c, batch); });
    } catch (const WriteFailed&) {
        pool_.transact([&](Connection& c) { run_isolated(c, batch); });
    }
}

void WriteQueue::observe(std::size_t writes, std::chrono::nanoseconds took,
                         const std::exception_ptr& lost) const {
    if (lost) {
        observer_.logger.log(LogLevel::error, "postgres.batch_failed",
                             {{"writes", std::to_string(writes)}, {"reason", message_of(lost)}});
        return;
    }
    if (observer_.metrics)
        observer_.metrics->group_committed(writes);
    if (took >= observer_.slow)
        observer_.logger.log(
            LogLevel::warning, "postgres.commit_stalled",
            {{"writes", std::to_string(writes)}, {"duration_ms", milliseconds_of(took)}});
}

void WriteQueue::drain() {
    for (;;) {
        std::deque<Item> batch;
        {
            std::lock_guard lock(mutex_);
            if (waiting_.empty()) {
                --draining_;
                return;
            }
            const std::size_t n = std::min(waiting_.size(), max_batch_);
            std::move(waiting_.begin(), waiting_.begin() + static_cast<std::ptrdiff_t>(n),
                      std::back_inserter(batch));
            waiting_.erase(waiting_.begin(), waiting_.begin() + static_cast<std::ptrdiff_t>(n));
        }
        std::exception_ptr lost;
        const auto started = std::chrono::steady_clock::now();
        try {
            commit(batch);
        } catch (...) {
            lost = std::current_exception();
        }
        observe(batch.size(), std::chrono::steady_clock::now() - started, lost);
        // Each callback is handed the only reference to an error of its own, so none is released
        // here or by another writer after a writer was told: libstdc++ counts an exception_ptr's
        // references out of ThreadSanitizer's sight, and a last release elsewhere would free what
        // the writer read.
        if (lost)
            for (Item& item : batch)
                item.error = copy_of(lost);
        lost = nullptr;
        for (Item& item : batch)
            item.done(std::move(item.error));
    }
}

}  // namespace herald::detail::postgres
