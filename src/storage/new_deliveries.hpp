// The deliveries `Storage::record_publish` enqueues, checked against the firings recorded with
// them the same way, with the same errors, in every backend.
#pragma once

#include <herald/storage.hpp>

#include <span>
#include <vector>

namespace herald::detail {

/// For each firing, the delivery enqueued with it, or null. Throws herald::Error
/// (invalid_argument, field "deliveries") for a delivery naming no firing, or a second delivery
/// for a firing. The pointers point into `deliveries`.
std::vector<const NewDelivery*> delivery_per_firing(std::span<const Firing> firings,
                                                    std::span<const NewDelivery> deliveries);

/// The deliveries, in their order, each with a copy of its firing; checked like
/// `delivery_per_firing`.
std::vector<Delivery> deliveries_of(std::span<const Firing> firings,
                                    std::span<const NewDelivery> deliveries);

}  // namespace herald::detail
