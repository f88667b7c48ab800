// What ties automations to their entity's integrations and secrets: checking an automation's
// action when it is created or updated, and finding the automations that use an integration or
// a secret before either is changed or removed. Call with EngineState::mutex held.
#pragma once

#include "engine/engine_state.hpp"

#include <herald/automation.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace herald::detail {

/// Compiles the action's templates with the entity's secrets, checks that its integration
/// exists in the automation's entity and is of the action's kind, and normalises a launch-job
/// override to the bare object. Throws herald::Error naming the field ("action.payload",
/// "action.integration").
void check_action(const EngineState& state, Automation& automation);

using AutomationList = std::vector<std::shared_ptr<const Automation>>;

/// The automations of `entity` whose action goes through integration `name`, by name.
AutomationList automations_using_integration(const EngineState& state, std::string_view entity,
                                             std::string_view name);
/// The automations of `entity` whose templates name secret `name`, by name.
AutomationList automations_using_secret(const EngineState& state, std::string_view entity,
                                        std::string_view name);
/// Whether any of `automations` uses `${ACCESS_TOKEN}`.
bool any_uses_access_token(const AutomationList& automations);

/// "automation 'a' (id 1), automation 'b' (id 2)", for in_use errors.
std::string describe(const AutomationList& automations);

}  // namespace herald::detail
