#include "engine/periodic.hpp"

#include <utility>

namespace herald::detail {

Periodic::Periodic(std::function<void(std::stop_token)> task, std::chrono::milliseconds interval)
    : thread_([this, task = std::move(task), interval](std::stop_token stop) {
          while (!stop.stop_requested()) {
              task(stop);
              std::unique_lock lock(mutex_);
              wake_.wait_for(lock, stop, interval, [this] { return due_; });
              due_ = false;
          }
      }) {}

void Periodic::run_now() {
    {
        std::lock_guard lock(mutex_);
        due_ = true;
    }
    wake_.notify_one();
}

Periodic::~Periodic() {
    thread_.request_stop();
    thread_.join();
}

}  // namespace herald::detail
