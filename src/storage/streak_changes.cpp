#include "storage/streak_changes.hpp"

#include <algorithm>
#include <tuple>

namespace herald::detail {

std::vector<StreakChange> streak_changes(std::span<const StreakUpdate> updates) {
    // Sorted stably by integration, each one's updates stay in the order they came.
    std::vector<const StreakUpdate*> sorted;
    sorted.reserve(updates.size());
    for (const StreakUpdate& u : updates)
        sorted.push_back(&u);
    std::stable_sort(
        sorted.begin(), sorted.end(), [](const StreakUpdate* a, const StreakUpdate* b) {
            return std::tie(a->entity, a->integration) < std::tie(b->entity, b->integration);
        });
    std::vector<StreakChange> changes;
    for (const StreakUpdate* u : sorted) {
        if (changes.empty() || changes.back().entity != u->entity ||
            changes.back().integration != u->integration)
            changes.push_back({.entity = u->entity, .integration = u->integration});
        StreakChange& change = changes.back();
        if (!u->failed_at) {
            change.ends = true;
            change.failed_at.reset();
        } else if (!change.failed_at) {
            change.failed_at = u->failed_at;
        }
    }
    return changes;
}

}  // namespace herald::detail
