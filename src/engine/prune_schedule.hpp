// The engine's own pruning: a pass every `RetentionPolicy::interval`, on a thread of its own so
// that neither publishing nor the dispatcher's executor waits for it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <stop_token>
#include <thread>

namespace herald::detail {

class PruneSchedule {
  public:
    /// Runs `pass` at once, then every `interval`, until destroyed; `pass` must not throw and
    /// should end soon once its stop token is requested.
    PruneSchedule(std::function<void(std::stop_token)> pass, std::chrono::seconds interval);
    /// Requests a stop and waits for a pass under way to end (after its current batch).
    ~PruneSchedule();
    PruneSchedule(const PruneSchedule&) = delete;
    PruneSchedule& operator=(const PruneSchedule&) = delete;

  private:
    std::mutex mutex_;
    std::condition_variable_any wake_;
    std::jthread thread_;  ///< last: it uses the members above
};

}  // namespace herald::detail
