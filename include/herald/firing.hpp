// herald/firing.hpp — the record of one automation firing on one event.
//
// A firing is produced for every (automation, event) match and kept in the history store,
// queryable per automation:
//
//     for (const herald::Firing& f : engine.history().by_automation(id))
//         std::cout << f.reason << '\n';   // "alias 'production' added to acme/reg/clf:v3 ..."
#pragma once

#include <herald/action.hpp>
#include <herald/clock.hpp>
#include <herald/event.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace herald {

enum class FiringStatus { pending, finished, failed, skipped, dead };

/// What a run metric trigger saw when it fired; the source of the `metric_*` payload variables.
struct MetricObservation {
    std::string metric_name;
    double metric_value = 0;            ///< the latest value
    std::vector<double> metric_values;  ///< the values the condition was evaluated over
    std::string metric_condition;       ///< e.g. "avg(loss) over last 5 = 0.21 < 0.25"

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

    friend bool operator==(const Firing&, const Firing&) = default;
};

std::string_view to_string(FiringStatus status) noexcept;  ///< "Pending", "Finished", ...

}  // namespace herald
