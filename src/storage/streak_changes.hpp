// What a run of streak updates comes to per integration, the same in every backend.
#pragma once

#include <herald/integration_store.hpp>

#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace herald::detail {

/// What one integration's streak updates come to: the stored streak ends first (a success or
/// a disabling came), then the failure after the last of those starts one unless one is stored.
struct StreakChange {
    std::string_view entity;
    std::string_view integration;
    bool ends = false;
    std::optional<Timestamp> failed_at;
};

/// The changes `updates` make, one per integration, in (entity, name) order: the order in which
/// a store shared by several writers applies them.
std::vector<StreakChange> streak_changes(std::span<const StreakUpdate> updates);

}  // namespace herald::detail
