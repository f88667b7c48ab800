// Unique ids for events, automations and deliveries.
#pragma once

#include <string>

namespace herald::detail {

/// A time-ordered (version 7) UUID in its canonical text form: 48 bits of Unix milliseconds,
/// then random bits. Ids made later sort later, so a database index on them grows at its end
/// instead of touching a random page per insert. Thread-safe.
std::string new_uuid();

}  // namespace herald::detail
