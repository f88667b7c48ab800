// How storage backends keep herald's values in text columns: JSON documents whose enum values
// are stored by name, so reordering an enum never changes what a stored record means. Columns
// that queries filter on (ids, times, status) are kept beside the document, not in it. Events
// are stored in herald's event JSON format (event_json.hpp).
#pragma once

#include <herald/action.hpp>
#include <herald/firing.hpp>
#include <herald/integration.hpp>
#include <herald/trigger.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace herald::detail::codec {

/// Timestamps are stored as nanoseconds since the epoch.
inline std::int64_t nanos(Timestamp t) {
    return t.time_since_epoch().count();
}
inline Timestamp timestamp(std::int64_t nanos) {
    return Timestamp{std::chrono::nanoseconds{nanos}};
}

/// The document of a firing's history row: every field but its id, automation id, integration
/// and time, which are columns of the row. Throws herald::Error (invalid_argument) for an
/// event the event JSON format cannot hold (see detail::validate).
std::string firing_document(const Firing& firing);
/// Which fields of a firing are read back.
enum class FiringFields {
    all,
    /// As it was when it fired: its status pending, without the payload and attempts that
    /// delivering it records (what a delivery carries).
    as_fired,
};
/// Fills the fields of `firing` that `firing_document` holds.
void read_firing_document(std::string_view text, Firing& firing,
                          FiringFields fields = FiringFields::all);

std::string action_to_json(const Action& action);
Action action_from_json(std::string_view text);
TriggerKind trigger_named(std::string_view name);
/// The status stored as `name`. Throws herald::Error (storage_failure) for an unknown name.
FiringStatus status_named(std::string_view name);

std::string integration_to_json(const Integration& integration);
Integration integration_from_json(std::string_view text);

}  // namespace herald::detail::codec
