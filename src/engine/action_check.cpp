#include "engine/action_check.hpp"
#include "template/action_templates.hpp"

#include <herald/error.hpp>

#include <algorithm>

namespace herald::detail {
namespace {

/// The integration an action needs, and of which kind; null for actions without one.
struct IntegrationNeed {
    const std::string* name = nullptr;
    IntegrationKind kind = IntegrationKind::webhook;
};

IntegrationNeed integration_need(const Action& action) {
    if (const auto* webhook = action.get_if<action::Webhook>())
        return {&webhook->integration, IntegrationKind::webhook};
    if (const auto* slack = action.get_if<action::SlackNotification>())
        return {&slack->integration, IntegrationKind::slack};
    return {};
}

/// The action's integration; throws when the entity has none of that name and kind.
Integration require_integration(const EngineState& state, const std::string& entity,
                                const IntegrationNeed& need) {
    std::optional<Integration> found = state.storage->integrations().find(entity, *need.name);
    if (!found)
        throw Error(errc::not_found, "action.integration",
                    "entity '" + entity + "' has no integration named '" + *need.name + "'");
    if (found->kind() != need.kind)
        throw Error(errc::invalid_argument, "action.integration",
                    "'" + *need.name + "' is a " + std::string(to_string(found->kind())) +
                        " integration; this action needs a " + std::string(to_string(need.kind)) +
                        " integration");
    return *found;
}

/// The templates of an automation already stored (checked when it was written).
std::optional<ActionTemplates> stored_templates(const Automation& automation) {
    try {
        return compile_action_templates(automation.action, automation.trigger.kind());
    } catch (const Error&) {
        return std::nullopt;  // written before these checks existed: it names nothing we know
    }
}

template <class Predicate>
AutomationList automations_of(const EngineState& state, std::string_view entity,
                              Predicate predicate) {
    AutomationList out;
    for (const auto& [id, automation] : state.by_id)
        if (automation->scope.entity == entity && predicate(*automation))
            out.push_back(automation);
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a->name < b->name; });
    return out;
}

}  // namespace

void check_action(const EngineState& state, Automation& automation) {
    const std::string& entity = automation.scope.entity;
    EntityFacts facts{.access_token = false, .secret_exists = [&](std::string_view name) {
                          return state.secrets->contains(entity, name);
                      }};
    if (const IntegrationNeed need = integration_need(automation.action); need.name) {
        const Integration integration = require_integration(state, entity, need);
        if (const auto* webhook = integration.get_if<WebhookIntegration>())
            facts.access_token = !webhook->access_token.empty();
    }
    compile_action_templates(automation.action, automation.trigger.kind(), facts);
    if (const auto* job = automation.action.get_if<action::LaunchJob>();
        job && !job->override.empty()) {
        action::LaunchJob normalized = *job;
        normalized.override = normalize_override(job->override);
        automation.action = std::move(normalized);
    }
}

AutomationList automations_using_integration(const EngineState& state, std::string_view entity,
                                             std::string_view name) {
    return automations_of(state, entity, [&](const Automation& a) {
        const IntegrationNeed need = integration_need(a.action);
        return need.name && *need.name == name;
    });
}

AutomationList automations_using_secret(const EngineState& state, std::string_view entity,
                                        std::string_view name) {
    return automations_of(state, entity, [&](const Automation& a) {
        const std::optional<ActionTemplates> t = stored_templates(a);
        if (!t)
            return false;
        for (const Template* part : {&t->payload, &t->title, &t->message, &t->override_value})
            if (std::binary_search(part->secrets().begin(), part->secrets().end(), name))
                return true;
        return false;
    });
}

bool any_uses_access_token(const AutomationList& automations) {
    return std::any_of(automations.begin(), automations.end(), [](const auto& a) {
        const std::optional<ActionTemplates> t = stored_templates(*a);
        return t && t->payload.uses_access_token();
    });
}

std::string describe(const AutomationList& automations) {
    std::string out;
    for (const auto& a : automations) {
        if (!out.empty())
            out += ", ";
        out += "automation '" + a->name + "' (id " + a->id + ")";
    }
    return out;
}

}  // namespace herald::detail
