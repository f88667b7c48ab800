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

#include <string>
#include <string_view>

namespace herald {

enum class FiringStatus { pending, finished, failed, skipped, dead };

/// Value type; thread-compatible.
struct Firing {
    std::string id;  ///< stable delivery id, sent with every attempt
    std::string automation_id;
    std::string automation_name;
    ActionKind action = ActionKind::none;
    Event event;  ///< the triggering event
    Timestamp time{};
    std::string reason;  ///< human-readable: why the automation fired
    FiringStatus status = FiringStatus::pending;

    friend bool operator==(const Firing&, const Firing&) = default;
};

std::string_view to_string(FiringStatus status) noexcept;  ///< "Pending", "Finished", ...

}  // namespace herald
