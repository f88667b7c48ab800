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

#include <herald/integration.hpp>

#include <optional>
#include <string_view>
#include <vector>

namespace herald {

/// Integrations by (entity, name). Implementations must be thread-safe.
class IntegrationStore {
  public:
    virtual ~IntegrationStore() = default;
    /// Throws herald::Error (already_exists) when the entity has one of that name.
    virtual void insert(const Integration& integration) = 0;
    /// Replaces the integration with the same entity and name; throws herald::Error (not_found)
    /// when there is none.
    virtual void update(const Integration& integration) = 0;
    /// False when there was none.
    virtual bool erase(std::string_view entity, std::string_view name) = 0;
    virtual std::optional<Integration> find(std::string_view entity,
                                            std::string_view name) const = 0;
    /// The entity's integrations, by name.
    virtual std::vector<Integration> list(std::string_view entity) const = 0;
};

}  // namespace herald
