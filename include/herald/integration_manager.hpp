// herald/integration_manager.hpp — create, change, remove and list an entity's integrations.
//
// Reached through `Engine::integrations()`. Only entity admins (Permission::manage_integrations
// on the entity) may call it. Every field is checked before anything is written (see
// integration.hpp); the secrets an integration names must exist in its entity.
//
// clang-format off
//     engine.integrations().create(admin, herald::WebhookIntegration{
//         .entity = "acme", .name = "deploy", .url = "https://ci.example.com/hooks/herald",
//         .signing_secret = "SIGNING_KEY"});
//     engine.integrations().remove(admin, "acme", "deploy");   // refused while automations use it
// clang-format on
//
// Failures throw herald::Error: permission_denied, invalid_argument (with the field, e.g.
// "integration.url"), already_exists, not_found, in_use (the reason lists the automations).
// Thread-safe.
#pragma once

#include <herald/authorizer.hpp>
#include <herald/integration.hpp>

#include <string_view>
#include <vector>

namespace herald {

namespace detail {
struct EngineState;
}

class IntegrationManager {
  public:
    /// Stores a new integration; its name must be free in the entity.
    Integration create(const Principal& who, Integration integration);
    /// Replaces the integration with the same entity and name. Refused (in_use) when
    /// automations use it and the change would break them: another kind, or no access token
    /// while a template uses `${ACCESS_TOKEN}`.
    Integration update(const Principal& who, Integration integration);
    /// Refused (in_use) while automations use it, unless `force`; then their firings fail.
    void remove(const Principal& who, std::string_view entity, std::string_view name,
                bool force = false);
    Integration get(const Principal& who, std::string_view entity, std::string_view name) const;
    /// The entity's integrations, by name.
    std::vector<Integration> list(const Principal& who, std::string_view entity) const;

  private:
    friend class Engine;
    explicit IntegrationManager(detail::EngineState& state) noexcept : state_(state) {}
    detail::EngineState& state_;
};

}  // namespace herald
