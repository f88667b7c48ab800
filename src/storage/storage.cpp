// The defaults of herald::Storage that are not inline.
#include "storage/firing_counts.hpp"
#include "storage/firing_update.hpp"
#include "storage/new_deliveries.hpp"

#include <herald/storage.hpp>

#include <vector>

namespace herald {

FiringCounts HistoryStore::count_firings(const HistoryQuery& query) const {
    // A page at a time, each continuing before the last firing of the one before: counting a
    // large history holds one page of it in memory, not all of it.
    constexpr std::size_t page = 1000;
    FiringCounts counts = detail::no_firings();
    HistoryQuery next = query;
    next.limit = page;
    for (;;) {
        const std::vector<Firing> firings = this->query(next);
        for (const Firing& f : firings)
            ++detail::count_of(counts, f.status);
        if (firings.size() < page)
            return counts;
        next.before = firings.back().id;
    }
}

void Storage::record_firings(std::span<const Firing> firings,
                             std::span<const NewDelivery> deliveries) {
    const std::vector<Delivery> queued = detail::deliveries_of(firings, deliveries);
    history().append(firings);
    if (!queued.empty())
        outbox().enqueue(queued);
}

SettleResult Storage::settle(const SettleBatch& batch) {
    SettleResult result;
    if (!batch.outbox.empty())
        result.lost = outbox().settle(batch.outbox);
    detail::apply_kept(batch.history, result.lost, [&](std::span<const FiringUpdate> kept) {
        if (!kept.empty())
            history().update(kept);
    });
    if (!batch.streaks.empty())
        result.failing = integrations().update_streaks(batch.streaks);
    return result;
}

}  // namespace herald
