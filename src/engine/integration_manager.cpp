#include "engine/action_check.hpp"
#include "engine/engine_state.hpp"
#include "engine/entity_access.hpp"
#include "integration/validate_integration.hpp"

#include <herald/error.hpp>
#include <herald/integration_manager.hpp>

#include <mutex>

namespace herald {
namespace {

void authorize(const detail::EngineState& state, const Principal& who, std::string_view entity) {
    detail::authorize_entity(state, who, Permission::manage_integrations, entity, "integrations");
}

void require_secret(const detail::EngineState& state, const std::string& entity,
                    const std::string& name, const char* field) {
    if (!name.empty() && !state.secrets->contains(entity, name))
        throw Error(errc::not_found, std::string("integration.") + field,
                    "entity '" + entity + "' has no secret '" + name + "'");
}

void require_secrets(const detail::EngineState& state, const Integration& integration) {
    const std::string& entity = integration.entity();
    if (const auto* webhook = integration.get_if<WebhookIntegration>()) {
        require_secret(state, entity, webhook->access_token, "access_token");
        require_secret(state, entity, webhook->signing_secret, "signing_secret");
    } else if (const auto* slack = integration.get_if<SlackIntegration>()) {
        require_secret(state, entity, slack->webhook_url_secret, "webhook_url_secret");
        require_secret(state, entity, slack->bot_token, "bot_token");
    }
}

Integration find_or_throw(const detail::EngineState& state, std::string_view entity,
                          std::string_view name) {
    std::optional<Integration> found = state.storage->integrations().find(entity, name);
    if (!found)
        throw Error(errc::not_found, "integration.name",
                    "entity '" + std::string(entity) + "' has no integration named '" +
                        std::string(name) + "'");
    return std::move(*found);
}

/// Refuses a change that would break the automations using the integration.
void require_compatible(const detail::EngineState& state, const Integration& old,
                        const Integration& changed) {
    const detail::AutomationList users =
        detail::automations_using_integration(state, old.entity(), old.name());
    if (users.empty())
        return;
    if (changed.kind() != old.kind())
        throw Error(errc::in_use, "integration.kind",
                    "cannot change the kind of '" + old.name() + "' while " +
                        detail::describe(users) + " use it");
    const auto* webhook = changed.get_if<WebhookIntegration>();
    if (webhook && webhook->access_token.empty() && detail::any_uses_access_token(users))
        throw Error(errc::in_use, "integration.access_token",
                    "payload templates of automations using '" + old.name() +
                        "' use ${ACCESS_TOKEN}: " + detail::describe(users));
}

}  // namespace

Integration IntegrationManager::create(const Principal& who, Integration integration) {
    authorize(state_, who, integration.entity());
    detail::validate(integration);
    std::unique_lock lock(state_.mutex);
    require_secrets(state_, integration);
    state_.storage->integrations().insert(integration);
    return integration;
}

Integration IntegrationManager::update(const Principal& who, Integration integration) {
    authorize(state_, who, integration.entity());
    detail::validate(integration);
    std::unique_lock lock(state_.mutex);
    const Integration old = find_or_throw(state_, integration.entity(), integration.name());
    require_secrets(state_, integration);
    require_compatible(state_, old, integration);
    state_.storage->integrations().update(integration);
    return integration;
}

void IntegrationManager::remove(const Principal& who, std::string_view entity,
                                std::string_view name, bool force) {
    authorize(state_, who, entity);
    std::unique_lock lock(state_.mutex);
    find_or_throw(state_, entity, name);
    if (!force)
        if (const auto users = detail::automations_using_integration(state_, entity, name);
            !users.empty())
            throw Error(errc::in_use, "integration.name",
                        "integration '" + std::string(name) + "' is used by " +
                            detail::describe(users) + "; change those first or remove with force");
    state_.storage->integrations().erase(entity, name);
}

Integration IntegrationManager::get(const Principal& who, std::string_view entity,
                                    std::string_view name) const {
    authorize(state_, who, entity);
    std::shared_lock lock(state_.mutex);
    return find_or_throw(state_, entity, name);
}

std::vector<Integration> IntegrationManager::list(const Principal& who,
                                                  std::string_view entity) const {
    authorize(state_, who, entity);
    std::shared_lock lock(state_.mutex);
    return state_.storage->integrations().list(entity);
}

}  // namespace herald
