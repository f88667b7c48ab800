// Unique ids for events, automations and deliveries.
#pragma once

#include <string>

namespace herald::detail {

/// A random (version 4) UUID in its canonical text form; thread-safe.
std::string new_uuid();

}  // namespace herald::detail
