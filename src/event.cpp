#include <herald/event.hpp>

namespace herald {

const ArtifactVersion* Event::artifact() const noexcept {
    return std::visit(
        [](const auto& body) -> const ArtifactVersion* {
            if constexpr (requires { body.version; })
                return &body.version;
            else
                return nullptr;
        },
        body);
}

const Run* Event::run() const noexcept {
    return std::visit(
        [](const auto& body) -> const Run* {
            if constexpr (requires { body.run; })
                return &body.run;
            else
                return nullptr;
        },
        body);
}

std::string_view to_string(EventKind kind) noexcept {
    switch (kind) {
        case EventKind::artifact_created:
            return "artifact_created";
        case EventKind::artifact_linked:
            return "artifact_linked";
        case EventKind::artifact_unlinked:
            return "artifact_unlinked";
        case EventKind::alias_added:
            return "alias_added";
        case EventKind::alias_removed:
            return "alias_removed";
        case EventKind::tag_added:
            return "tag_added";
        case EventKind::tag_removed:
            return "tag_removed";
        case EventKind::run_metrics_logged:
            return "run_metrics_logged";
        case EventKind::run_state_changed:
            return "run_state_changed";
    }
    return "?";
}

std::string_view to_string(RunState state) noexcept {
    switch (state) {
        case RunState::running:
            return "Running";
        case RunState::finished:
            return "Finished";
        case RunState::failed:
            return "Failed";
        case RunState::crashed:
            return "Crashed";
        case RunState::killed:
            return "Killed";
    }
    return "?";
}

}  // namespace herald
