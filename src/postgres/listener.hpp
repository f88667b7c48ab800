// What the server tells about changes other processes commit (LISTEN/NOTIFY), handed to the
// watches engines hold (`Storage::watch`): one connection and one thread per database, started
// by the first watch.
#pragma once

#include <herald/logger.hpp>
#include <herald/storage.hpp>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace herald::detail::postgres {

/// The channel is the schema's name; the payloads name what changed.
inline constexpr std::string_view deliveries_payload = "herald deliveries";
inline constexpr std::string_view automations_payload = "herald automations";

class Listener : public std::enable_shared_from_this<Listener> {
  public:
    Listener(std::string conninfo, std::string schema, Logger logger);
    /// Stops the thread; no listener is called afterwards.
    ~Listener();
    Listener(const Listener&) = delete;
    Listener& operator=(const Listener&) = delete;

    /// Calls `listener` after each notification of `what` until the watch is destroyed, and
    /// once after the connection was lost and made again (what was sent meanwhile is lost).
    std::unique_ptr<StoreWatch> watch(StoreChange what, std::function<void()> listener);

  private:
    class Watch;
    void run(std::stop_token stop);
    /// Calls the listeners of each kind in `what`.
    void tell(const std::vector<StoreChange>& what);
    void remove(const Watch* watch);
    /// Waits up to `wait` for the stop pipe; true when stopping.
    bool stopping_within(std::chrono::milliseconds wait) const;

    const std::string conninfo_;
    const std::string schema_;
    const Logger logger_;
    std::mutex mutex_;  ///< guards `watches_`; held while listeners are called
    std::vector<Watch*> watches_;
    int stop_pipe_[2] = {-1, -1};
    std::jthread thread_;  ///< started by the first watch
};

}  // namespace herald::detail::postgres
