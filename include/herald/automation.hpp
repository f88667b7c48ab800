// herald/automation.hpp — an automation: scope + trigger + action.
//
// clang-format off
//     herald::Automation a{
//         .name = "deploy-production",
//         .scope = herald::Scope::for_registry("acme", "model-registry"),
//         .trigger = herald::trigger::AddArtifactAlias{.alias = herald::Pattern{"production"}},
//         .action = herald::action::Webhook{.integration = "deploy", .payload = "{}"}};
// clang-format on
//
// `id`, `creator` and the timestamps are set by `AutomationManager::create`.
#pragma once

#include <herald/action.hpp>
#include <herald/clock.hpp>
#include <herald/scope.hpp>
#include <herald/trigger.hpp>

#include <cstddef>
#include <string>

namespace herald {

/// Value type; thread-compatible.
struct Automation {
    std::string id;
    std::string name;  ///< 1..255 characters, unique within the scope
    std::string description;
    bool enabled = true;
    Scope scope;
    Trigger trigger;
    Action action;
    std::string creator;
    Timestamp created_at{};
    Timestamp updated_at{};

    friend bool operator==(const Automation&, const Automation&) = default;
};

inline constexpr std::size_t max_automation_name_length = 255;

}  // namespace herald
