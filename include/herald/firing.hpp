// herald/firing.hpp — the record of one automation firing on one event.
//
// A firing is produced for every (automation, event) match and kept in the history store,
// queryable per automation, per integration and by time; the dispatcher adds every delivery
// attempt and the final status:
//
// clang-format off
//     for (const herald::Firing& f : engine.history().by_automation(id))
//         std::cout << f.reason << ' ' << to_string(f.status) << ' ' << f.attempts.size() << '\n';
// clang-format on
#pragma once

#include <herald/action.hpp>
#include <herald/clock.hpp>
#include <herald/event.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace herald {

/// Where a firing stands: `pending` until its action is carried out (or given up), `finished`
/// when it succeeded, `failed` when it failed without retry (or its integration is gone or
/// disabled), `skipped` when it was never attempted (e.g. its integration was disabled before),
/// `dead` when every retry failed (a dead delivery can be replayed).
enum class FiringStatus { pending, finished, failed, skipped, dead };

/// One try at carrying out a firing's action (an HTTP request, a job hand-over).
/// Value type; thread-compatible.
struct DeliveryAttempt {
    int number = 0;                      ///< 1 for the first attempt; a replay continues counting
    Timestamp time{};                    ///< when the attempt started
    int status_code = 0;                 ///< HTTP status; 0 when no response arrived
    std::chrono::nanoseconds latency{};  ///< until the response (or the failure)
    std::string error;                   ///< why it failed; empty when it succeeded
    std::string response_body;           ///< the start of the response body, cut to a bound

    friend bool operator==(const DeliveryAttempt&, const DeliveryAttempt&) = default;
};

/// What a run metric trigger saw when it fired; the source of the `metric_*` payload variables.
struct MetricObservation {
    std::string metric_name;
    double metric_value = 0;            ///< the latest value
    std::vector<double> metric_values;  ///< the values the condition was evaluated over
    std::string metric_condition;       ///< e.g. "avg(loss) over last 5 = 0.21 < 0.25"
    /// A resolved firing: the condition of an episode that fired has cleared (see
    /// herald::Hysteresis::notify_resolved); `metric_condition` then starts with "resolved: ".
    bool resolved = false;

    friend bool operator==(const MetricObservation&, const MetricObservation&) = default;
};

/// Value type; thread-compatible.
struct Firing {
    std::string id;  ///< stable delivery id, sent with every attempt
    std::string automation_id;
    std::string automation_name;
    ActionKind action = ActionKind::none;
    Event event;  ///< the triggering event
    Timestamp time{};
    std::string reason;                       ///< human-readable: why the automation fired
    std::optional<MetricObservation> metric;  ///< set by run metric triggers
    FiringStatus status = FiringStatus::pending;
    /// The integration the action goes through (webhook and Slack), the job queue for a launch
    /// job, empty for no action. Integrations are per entity: `event.entity` qualifies it.
    std::string integration;
    std::string payload;                    ///< the body last sent, secret values masked
    std::vector<DeliveryAttempt> attempts;  ///< oldest first

    friend bool operator==(const Firing&, const Firing&) = default;
};

std::string_view to_string(FiringStatus status) noexcept;  ///< "Pending", "Finished", ...

}  // namespace herald
