// `herald publish` with many events in flight: lines are published as they are read, up to a
// window of unsettled ones, and what became of each is reported in input order once it and every
// line before it are settled (durable, or refused), so the store can commit many at once.
//
// clang-format off
//     PublishPipeline pipeline(engine, 1024, [&](std::span<const LineOutcome> batch) { print(batch); });
//     pipeline.publish(1, event);          // blocks while 1024 lines are unsettled
//     pipeline.refuse(2, "entity: is required");
//     pipeline.finish();                   // every line reported
// clang-format on
#pragma once

#include <herald/engine.hpp>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <thread>

namespace herald::cli {

/// What became of one input line: published (`error` empty, `receipt` set) or refused.
struct LineOutcome {
    std::size_t line = 0;
    std::string error;  ///< why the line was refused; empty when it was published
    PublishReceipt receipt;
};

/// Publishes through `Engine::async_publish` with a bounded number of lines unsettled and reports
/// outcomes in the order the lines were given. The reporter runs on a thread of the pipeline's
/// own, one batch of consecutive settled lines at a time, never two at once. `publish`, `refuse`
/// and `finish` are called from one thread; `refused` from any.
class PublishPipeline {
  public:
    using Reporter = std::function<void(std::span<const LineOutcome>)>;

    /// `window` (at least 1) is how many lines may be unsettled or unreported at once.
    PublishPipeline(Engine& engine, std::size_t window, Reporter report);
    /// Waits for every line given so far, as `finish` does.
    ~PublishPipeline();
    PublishPipeline(const PublishPipeline&) = delete;
    PublishPipeline& operator=(const PublishPipeline&) = delete;

    /// Waits while the window is full, then publishes `event` as line `line`.
    void publish(std::size_t line, Event event);
    /// Records line `line` as refused for `reason`, in its place in the order.
    void refuse(std::size_t line, std::string reason);
    /// Whether some line has been refused (by `refuse` or by the engine) so far.
    bool refused() const;
    /// Waits until every line given so far is reported, then stops the reporter.
    void finish();

  private:
    struct Slot {
        LineOutcome outcome;
        bool settled = false;
    };

    /// Adds a slot for `line` once the window has room; returns its sequence number.
    std::size_t admit(std::size_t line, std::unique_lock<std::mutex>& lock);
    void settle(std::size_t sequence, std::string error, PublishReceipt receipt);
    void report_loop();

    Engine& engine_;
    const std::size_t window_;
    Reporter report_;
    mutable std::mutex mutex_;
    std::condition_variable settled_;  ///< the first slot settled, or finishing
    std::condition_variable room_;     ///< slots were reported (the window has room)
    std::deque<Slot> slots_;           ///< unreported lines, in input order
    std::size_t first_sequence_ = 0;   ///< the sequence number of slots_.front()
    bool any_refused_ = false;
    bool finishing_ = false;
    std::thread reporter_;
};

}  // namespace herald::cli
