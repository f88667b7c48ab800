// Who hears how a backend's group commits go: batch sizes counted, slow commits logged. Shared
// by the SQLite and PostgreSQL backends.
#pragma once

#include <herald/logger.hpp>
#include <herald/metrics.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace herald::detail {

struct CommitObserver {
    Logger logger;
    std::shared_ptr<Metrics> metrics;  ///< null: not counted
    std::chrono::milliseconds slow{1000};
};

/// Whole milliseconds, for log fields ("duration_ms").
inline std::string milliseconds_of(std::chrono::nanoseconds d) {
    return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

}  // namespace herald::detail
