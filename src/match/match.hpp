// Trigger filters and the reasons firings give.
#pragma once

#include <herald/automation.hpp>
#include <herald/dry_run.hpp>
#include <herald/event.hpp>

#include <optional>
#include <string>

namespace herald::detail {

/// Whether the event passes the trigger's own filters (patterns, run filters, chosen states).
/// The caller has already checked the scope and that the trigger listens to the event's kind.
bool filters_match(const Trigger& trigger, const Event& event) noexcept;
/// Why an event does not pass a trigger's filters: `filtered`, or `no_value` for a run metric
/// trigger's metric that the event does not log.
struct FilterMismatch {
    DryRunOutcome outcome;
    std::string reason;  ///< for people
};
/// Why the event does not pass the trigger's filters; nullopt when it does.
std::optional<FilterMismatch> filter_mismatch(const Trigger& trigger, const Event& event);

/// Why `automation` fired on `event`, for people.
std::string describe_match(const Automation& automation, const Event& event);

/// "<entity>/<project>/<collection>:v<index>".
std::string version_string(const Event& event, const ArtifactVersion& version);

}  // namespace herald::detail
