#include "cli/publish_pipeline.hpp"

#include <exception>
#include <utility>
#include <vector>

namespace herald::cli {

PublishPipeline::PublishPipeline(Engine& engine, std::size_t window, Reporter report)
    : engine_(engine), window_(window), report_(std::move(report)) {
    reporter_ = std::thread([this] { report_loop(); });
}

PublishPipeline::~PublishPipeline() {
    if (reporter_.joinable())
        finish();
}

std::size_t PublishPipeline::admit(std::size_t line, std::unique_lock<std::mutex>& lock) {
    room_.wait(lock, [&] { return slots_.size() < window_; });
    slots_.push_back({.outcome = {.line = line}});
    return first_sequence_ + slots_.size() - 1;
}

void PublishPipeline::publish(std::size_t line, Event event) {
    std::unique_lock lock(mutex_);
    const std::size_t sequence = admit(line, lock);
    lock.unlock();
    try {
        engine_.async_publish(std::move(event), [this, sequence](boost::system::error_code ec,
                                                                 PublishReceipt receipt) {
            settle(sequence, ec ? ec.message() : std::string(), std::move(receipt));
        });
    } catch (const std::exception& e) {
        // Nothing was started (memory ran out, say), so no handler will settle the line.
        settle(sequence, e.what(), {});
    }
}

void PublishPipeline::refuse(std::size_t line, std::string reason) {
    std::unique_lock lock(mutex_);
    const std::size_t sequence = admit(line, lock);
    lock.unlock();
    settle(sequence, std::move(reason), {});
}

void PublishPipeline::settle(std::size_t sequence, std::string error, PublishReceipt receipt) {
    std::lock_guard lock(mutex_);
    if (sequence < first_sequence_ || slots_[sequence - first_sequence_].settled)
        return;  // settled already: a handler that came after all, once the call had thrown
    Slot& slot = slots_[sequence - first_sequence_];
    any_refused_ = any_refused_ || !error.empty();
    slot.outcome.error = std::move(error);
    slot.outcome.receipt = std::move(receipt);
    slot.settled = true;
    if (sequence == first_sequence_)
        settled_.notify_one();
}

bool PublishPipeline::refused() const {
    std::lock_guard lock(mutex_);
    return any_refused_;
}

void PublishPipeline::finish() {
    {
        std::lock_guard lock(mutex_);
        finishing_ = true;
    }
    settled_.notify_one();
    reporter_.join();
}

void PublishPipeline::report_loop() {
    std::vector<LineOutcome> batch;
    std::unique_lock lock(mutex_);
    for (;;) {
        settled_.wait(lock, [&] {
            return (!slots_.empty() && slots_.front().settled) || (finishing_ && slots_.empty());
        });
        if (slots_.empty())
            return;
        batch.clear();
        while (!slots_.empty() && slots_.front().settled) {
            batch.push_back(std::move(slots_.front().outcome));
            slots_.pop_front();
            ++first_sequence_;
        }
        lock.unlock();
        room_.notify_one();
        report_(batch);
        lock.lock();
    }
}

}  // namespace herald::cli
