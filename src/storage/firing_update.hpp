// What a history update does to a firing, the same in every backend.
#pragma once

#include <herald/storage.hpp>

#include <algorithm>
#include <span>
#include <string>
#include <vector>

namespace herald::detail {

/// Applies `update` to `firing`: its status, the attempt appended, the payload replaced.
inline void apply_update(Firing& firing, const FiringUpdate& update) {
    firing.status = update.status;
    if (update.attempt)
        firing.attempts.push_back(*update.attempt);
    if (!update.payload.empty())
        firing.payload = update.payload;
}

/// Calls `apply(updates)` with the updates of `history` whose deliveries are not in `lost` (the
/// outbox dropped their settlement: their lease no longer holds), what a settle records.
template <class Apply>
void apply_kept(std::span<const FiringUpdate> history, const std::vector<std::string>& lost,
                Apply&& apply) {
    if (lost.empty()) {
        apply(history);
        return;
    }
    std::vector<FiringUpdate> kept;
    std::copy_if(history.begin(), history.end(), std::back_inserter(kept),
                 [&](const FiringUpdate& u) {
                     return std::find(lost.begin(), lost.end(), u.firing_id) == lost.end();
                 });
    apply(std::span<const FiringUpdate>(kept));
}

}  // namespace herald::detail
