#include <herald/action.hpp>
#include <herald/firing.hpp>

namespace herald {

std::string_view to_string(ActionKind kind) noexcept {
    switch (kind) {
        case ActionKind::none:
            return "NO_ACTION";
        case ActionKind::webhook:
            return "WEBHOOK";
        case ActionKind::slack:
            return "SLACK";
        case ActionKind::launch_job:
            return "LAUNCH_JOB";
    }
    return "?";
}

std::string_view to_string(Severity severity) noexcept {
    switch (severity) {
        case Severity::info:
            return "INFO";
        case Severity::warn:
            return "WARN";
        case Severity::error:
            return "ERROR";
    }
    return "?";
}

std::string_view to_string(FiringStatus status) noexcept {
    switch (status) {
        case FiringStatus::pending:
            return "Pending";
        case FiringStatus::finished:
            return "Finished";
        case FiringStatus::failed:
            return "Failed";
        case FiringStatus::skipped:
            return "Skipped";
        case FiringStatus::dead:
            return "Dead";
    }
    return "?";
}

}  // namespace herald
