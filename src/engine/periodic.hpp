// What the engine does on its own from time to time (a pruning pass, a look for automations
// changed elsewhere): a task run at once and then every interval, on a thread of its own, so
// that neither publishing nor the dispatcher's executor waits for it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <stop_token>
#include <thread>

namespace herald::detail {

class Periodic {
  public:
    /// Runs `task` at once, then every `interval`, until destroyed; `task` must not throw and
    /// should end soon once its stop token is requested.
    Periodic(std::function<void(std::stop_token)> task, std::chrono::milliseconds interval);
    /// Requests a stop and waits for a run under way to end.
    ~Periodic();
    Periodic(const Periodic&) = delete;
    Periodic& operator=(const Periodic&) = delete;

    /// Runs the task again as soon as it is not running, rather than at the end of the
    /// interval (which then starts over). From any thread.
    void run_now();

  private:
    std::mutex mutex_;
    bool due_ = false;  ///< run_now was called
    std::condition_variable_any wake_;
    std::jthread thread_;  ///< last: it uses the members above
};

}  // namespace herald::detail
