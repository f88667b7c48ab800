#include "postgres/write_queue.hpp"

#include <algorithm>
#include <utility>

namespace herald::detail::postgres {

WriteQueue::WriteQueue(Pool& pool, std::size_t max_batch, std::size_t batches)
    : pool_(pool),
      max_batch_(std::max<std::size_t>(max_batch, 1)),
      batches_(std::max<std::size_t>(batches, 1)) {}

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

void WriteQueue::run(Connection& c, std::deque<Item>& batch) {
    if (batch.size() == 1) {
        batch.front().write(c);
        return;
    }
    for (Item& item : batch) {
        c.exec("SAVEPOINT herald_write");
        try {
            item.write(c);
            c.exec("RELEASE SAVEPOINT herald_write");
        } catch (...) {
            item.error = std::current_exception();
            c.exec("ROLLBACK TO SAVEPOINT herald_write");  // throws only when the batch is lost
        }
    }
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
        try {
            pool_.transact([&](Connection& c) { run(c, batch); });
        } catch (...) {
            lost = std::current_exception();
        }
        // Each callback is handed the only reference this thread holds to its error, so none is
        // released here after a writer was told: libstdc++ counts an exception_ptr's references
        // out of ThreadSanitizer's sight, and a last release here would free what the writer read.
        if (lost)
            for (Item& item : batch)
                item.error = lost;
        lost = nullptr;
        for (Item& item : batch)
            item.done(std::move(item.error));
    }
}

}  // namespace herald::detail::postgres
