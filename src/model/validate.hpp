// Complete validation of an automation before anything is written.
#pragma once

#include <herald/automation.hpp>

namespace herald::detail {

/// Throws herald::Error (invalid_argument) naming the first field that is wrong and why.
void validate(const Automation& automation);

}  // namespace herald::detail
