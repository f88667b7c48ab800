// Writing an event in herald's event JSON format (event_json.hpp) as part of a larger document.
#pragma once

#include "json/json_text.hpp"

#include <herald/event.hpp>

namespace herald::detail {

/// Writes `event` as one JSON object, the text `herald::to_json(event)` gives.
void write_event(JsonWriter& out, const Event& event);

}  // namespace herald::detail
