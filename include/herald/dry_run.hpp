// herald/dry_run.hpp — what publishing an event would do, without doing it.
//
// clang-format off
//     herald::DryRunEvent r = engine.dry_run(event);
//     for (const herald::DryRunVerdict& v : r.automations)
//         std::cout << v.automation_name << ": " << herald::to_string(v.outcome) << " — "
//                   << v.reason << '\n';   // "loss alert: PENDING — the condition holds; ..."
// clang-format on
//
// `Engine::dry_run` evaluates events as `publish` would, against copies of the run windows,
// cooldowns and trigger states, and records nothing: no firing, no delivery, no window value,
// no cooldown. A sequence of events is evaluated in order against the same copies, so a run's
// metric values can be tried out one after another. Thread safety: as `publish`.
#pragma once

#include <herald/clock.hpp>
#include <herald/firing.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace herald {

/// Why an automation whose scope holds the event would, or would not, fire on it.
enum class DryRunOutcome {
    fires,            ///< it would fire (a resolved firing included)
    disabled,         ///< the automation is disabled
    not_a_registry,   ///< a link trigger, on a link into a project that is not a registry
    filtered,         ///< a filter of the trigger refuses the event (collection, alias, run...)
    no_value,         ///< a metric trigger: the event has no value it accepts
    window_not_full,  ///< a metric trigger: too few values for its statistic yet
    not_met,          ///< a metric trigger: its condition does not hold
    pending,          ///< the condition holds, not yet for the pending period
    recovering,       ///< it fired in this episode and waits for the value to recover
    cooldown,         ///< it would fire, but fired for the run less than its cooldown ago
};

/// "FIRES", "DISABLED", "NOT_A_REGISTRY", "FILTERED", "NO_VALUE", "WINDOW_NOT_FULL",
/// "NOT_MET", "PENDING", "RECOVERING", "COOLDOWN".
std::string_view to_string(DryRunOutcome outcome) noexcept;

/// One automation's verdict on one event.
struct DryRunVerdict {
    std::string automation_id;
    std::string automation_name;
    DryRunOutcome outcome = DryRunOutcome::fires;
    /// For people: why it fires (the firing's reason) or why not.
    std::string reason;
    /// `cooldown`: when the automation may fire for the run again.
    std::optional<Timestamp> cooldown_until;
    /// `pending`: how many more accepted values the condition must hold for (0 when only the
    /// pending duration is left).
    std::uint64_t pending_evaluations = 0;
    /// `pending` with a pending duration: when it is over, if the condition keeps holding.
    std::optional<Timestamp> pending_until;
    /// `fires` with a run metric trigger: what it saw (the `metric_*` payload variables).
    std::optional<MetricObservation> metric;
    /// `fires`: what the action would send, secret values masked — the body history records
    /// (empty for an action that sends nothing: none, or a launch job without an override).
    std::string payload;
    /// `fires`: why the delivery would fail rather than send, when it would (a missing,
    /// disabled or mismatched integration); the payload is then empty.
    std::string payload_error;

    friend bool operator==(const DryRunVerdict&, const DryRunVerdict&) = default;
};

/// The verdicts on one event: every automation whose scope holds the event and whose trigger
/// listens to its kind, disabled ones included, in the order `AutomationManager::list` gives.
struct DryRunEvent {
    std::string event_id;  ///< the event's, or one made up as `publish` would
    std::vector<DryRunVerdict> automations;

    friend bool operator==(const DryRunEvent&, const DryRunEvent&) = default;
};

}  // namespace herald
