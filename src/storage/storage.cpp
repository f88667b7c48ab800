// The defaults of herald::Storage that are not inline.
#include "storage/new_deliveries.hpp"

#include <herald/storage.hpp>

namespace herald {

void Storage::record_firings(std::span<const Firing> firings,
                             std::span<const NewDelivery> deliveries) {
    const std::vector<Delivery> queued = detail::deliveries_of(firings, deliveries);
    history().append(firings);
    if (!queued.empty())
        outbox().enqueue(queued);
}

}  // namespace herald
