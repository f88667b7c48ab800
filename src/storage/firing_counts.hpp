// The counts `HistoryStore::count_firings` starts from, the same in every backend.
#pragma once

#include <herald/storage.hpp>

namespace herald::detail {

/// Every status, in the order of `FiringStatus`, with count 0: `counts[size_t(status)]` is the
/// entry of `status`.
inline FiringCounts no_firings() {
    FiringCounts counts;
    for (int s = 0; s <= static_cast<int>(FiringStatus::dead); ++s)
        counts.emplace_back(static_cast<FiringStatus>(s), 0);
    return counts;
}

/// The entry of `status` in counts made by `no_firings`.
inline std::size_t& count_of(FiringCounts& counts, FiringStatus status) {
    return counts[static_cast<std::size_t>(status)].second;
}

}  // namespace herald::detail
