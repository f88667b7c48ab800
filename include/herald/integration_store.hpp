// herald/integration_store.hpp — the storage interface for integrations.
//
// Part of a `Storage` backend (storage.hpp): `storage->integrations()`. herald checks names,
// fields and authorization before it writes; the store only keeps integrations by
// (entity, name):
//
// clang-format off
//     herald::IntegrationStore& store = storage->integrations();
//     if (auto found = store.find("acme", "deploy"))
//         std::cout << to_string(found->kind()) << '\n';
// clang-format on
#pragma once

#include <herald/clock.hpp>
#include <herald/integration.hpp>

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace herald {

/// What settled deliveries say of an integration's failing streak: the time since which its
/// deliveries have failed with no success between, which auto-disable measures
/// (`DispatcherConfig::disable_after`). Value type.
struct StreakUpdate {
    std::string entity;
    std::string integration;
    /// Set: one of its deliveries failed at this time, which starts the streak unless one is
    /// stored already (then the earlier start stays). nullopt: one succeeded, or the
    /// integration was disabled: the streak is over.
    std::optional<Timestamp> failed_at;
    friend bool operator==(const StreakUpdate&, const StreakUpdate&) = default;
};

/// An integration's failing streak as a store holds it.
struct FailingStreak {
    std::string entity;
    std::string integration;
    Timestamp since;  ///< its first failure since its last success
    friend bool operator==(const FailingStreak&, const FailingStreak&) = default;
};

/// Integrations by (entity, name). Implementations must be thread-safe.
class IntegrationStore {
  public:
    virtual ~IntegrationStore() = default;
    /// Throws herald::Error (already_exists) when the entity has one of that name.
    virtual void insert(const Integration& integration) = 0;
    /// Replaces the integration with the same entity and name; throws herald::Error (not_found)
    /// when there is none.
    virtual void update(const Integration& integration) = 0;
    /// False when there was none. Its failing streak goes with it.
    virtual bool erase(std::string_view entity, std::string_view name) = 0;
    virtual std::optional<Integration> find(std::string_view entity,
                                            std::string_view name) const = 0;
    /// The entity's integrations, by name.
    virtual std::vector<Integration> list(std::string_view entity) const = 0;

    /// Applies the updates, each integration's in order, and returns, for each integration
    /// they leave failing, its streak as stored now: it may have begun before any of them, in
    /// another process that shares the store or before a restart, which is what lets a
    /// dead integration be disabled however often its processes restart. A store that
    /// several processes write applies the integrations in the order of (entity, name), so
    /// two writers never wait on each other in a cycle. Streaks are kept apart from the
    /// integrations: one may be stored for a name no integration has (yet).
    virtual std::vector<FailingStreak> update_streaks(std::span<const StreakUpdate> updates) = 0;
    /// When the stored streak of `entity`'s integration `name` began; nullopt: it has none.
    virtual std::optional<Timestamp> failing_since(std::string_view entity,
                                                   std::string_view name) const = 0;
};

}  // namespace herald
