// What every backend remembers of a published event's id (`HistoryStore::remember_event`),
// with the same error and the same stored form of its firings.
#pragma once

#include <herald/error.hpp>
#include <herald/firing.hpp>

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace herald::detail {

/// The error of a second record under one event id.
Error already_published(std::string_view event_id);

/// The ids of `firings` as one text (a JSON array): how a persistent backend keeps them in
/// the event's row.
std::string firing_ids_text(std::span<const Firing> firings);
/// The ids `firing_ids_text` wrote. Throws herald::Error (storage_failure) for text it did not.
std::vector<std::string> firing_ids_of(std::string_view text);

}  // namespace herald::detail
