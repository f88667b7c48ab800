#include "engine/prune_schedule.hpp"

#include <utility>

namespace herald::detail {

PruneSchedule::PruneSchedule(std::function<void(std::stop_token)> pass,
                             std::chrono::seconds interval)
    : thread_([this, pass = std::move(pass), interval](std::stop_token stop) {
          while (!stop.stop_requested()) {
              pass(stop);
              std::unique_lock lock(mutex_);
              wake_.wait_for(lock, stop, interval, [] { return false; });
          }
      }) {}

PruneSchedule::~PruneSchedule() {
    thread_.request_stop();
    thread_.join();
}

}  // namespace herald::detail
