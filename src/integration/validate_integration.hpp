// Checking an integration's own fields (its secrets' existence is the manager's business).
#pragma once

#include <herald/integration.hpp>

namespace herald::detail {

/// Throws herald::Error (invalid_argument) naming the first wrong field ("integration.url")
/// and why.
void validate(const Integration& integration);

}  // namespace herald::detail
