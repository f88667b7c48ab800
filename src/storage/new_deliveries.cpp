#include "storage/new_deliveries.hpp"

#include <herald/error.hpp>

#include <string>

namespace herald::detail {

std::vector<const NewDelivery*> delivery_per_firing(std::span<const Firing> firings,
                                                    std::span<const NewDelivery> deliveries) {
    std::vector<const NewDelivery*> per_firing(firings.size(), nullptr);
    for (std::size_t i = 0; i < deliveries.size(); ++i) {
        const NewDelivery& d = deliveries[i];
        if (d.firing >= firings.size())
            throw Error(errc::invalid_argument, "deliveries",
                        "delivery " + std::to_string(i) + " names firing " +
                            std::to_string(d.firing) + " of " + std::to_string(firings.size()));
        if (per_firing[d.firing])
            throw Error(errc::invalid_argument, "deliveries",
                        "firing '" + firings[d.firing].id + "' has two deliveries");
        per_firing[d.firing] = &d;
    }
    return per_firing;
}

std::vector<Delivery> deliveries_of(std::span<const Firing> firings,
                                    std::span<const NewDelivery> deliveries) {
    delivery_per_firing(firings, deliveries);
    std::vector<Delivery> out;
    out.reserve(deliveries.size());
    for (const NewDelivery& d : deliveries)
        out.push_back(
            {.firing = firings[d.firing], .action = d.action, .trigger = d.trigger, .due = d.due});
    return out;
}

}  // namespace herald::detail
