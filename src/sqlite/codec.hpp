// How the SQLite backend keeps herald's values in TEXT columns: JSON documents whose enum values
// are stored by name, so reordering an enum never changes what a stored record means. Columns
// that queries filter on (ids, times, status) are kept beside the document.
#pragma once

#include <herald/action.hpp>
#include <herald/firing.hpp>
#include <herald/integration.hpp>
#include <herald/outbox_store.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace herald::detail::sqlite {

/// Timestamps are stored as nanoseconds since the epoch.
inline std::int64_t nanos(Timestamp t) {
    return t.time_since_epoch().count();
}
inline Timestamp timestamp(std::int64_t nanos) {
    return Timestamp{std::chrono::nanoseconds{nanos}};
}

std::string firing_to_json(const Firing& firing);
Firing firing_from_json(std::string_view text);

/// The parts of a delivery that are not columns: its firing, action and trigger kind.
std::string delivery_to_json(const Delivery& delivery);
/// Fills the firing, action and trigger of `delivery` from `delivery_to_json` text.
void delivery_from_json(std::string_view text, Delivery& delivery);

std::string integration_to_json(const Integration& integration);
Integration integration_from_json(std::string_view text);

}  // namespace herald::detail::sqlite
