// The defaults of herald::Storage that are not inline.
#include "storage/firing_counts.hpp"
#include "storage/new_deliveries.hpp"

#include <herald/storage.hpp>

#include <limits>

namespace herald {

FiringCounts HistoryStore::count_firings() const {
    FiringCounts counts = detail::no_firings();
    for (const Firing& f : query({.limit = std::numeric_limits<std::size_t>::max()}))
        ++detail::count_of(counts, f.status);
    return counts;
}

void Storage::record_firings(std::span<const Firing> firings,
                             std::span<const NewDelivery> deliveries) {
    const std::vector<Delivery> queued = detail::deliveries_of(firings, deliveries);
    history().append(firings);
    if (!queued.empty())
        outbox().enqueue(queued);
}

}  // namespace herald
