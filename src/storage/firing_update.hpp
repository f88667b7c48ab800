// What a history update does to a firing, the same in every backend.
#pragma once

#include <herald/storage.hpp>

namespace herald::detail {

/// Applies `update` to `firing`: its status, the attempt appended, the payload replaced.
inline void apply_update(Firing& firing, const FiringUpdate& update) {
    firing.status = update.status;
    if (update.attempt)
        firing.attempts.push_back(*update.attempt);
    if (!update.payload.empty())
        firing.payload = update.payload;
}

}  // namespace herald::detail
