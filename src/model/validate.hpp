// Complete validation of an automation, or of an event, before anything is written.
#pragma once

#include <herald/automation.hpp>
#include <herald/event.hpp>

namespace herald::detail {

/// Throws herald::Error (invalid_argument) naming the first field that is wrong and why.
void validate(const Automation& automation);

/// Refuses an event that herald's event JSON format (how firings are stored) cannot hold: a
/// negative step or version index, a metrics event without metrics. (What JSON text cannot
/// hold, the format writes as it can: see JsonWriter.) Throws herald::Error (invalid_argument)
/// naming the field.
void validate(const Event& event);

}  // namespace herald::detail
