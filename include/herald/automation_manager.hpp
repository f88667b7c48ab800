// herald/automation_manager.hpp — create, change and remove automations.
//
// Reached through `Engine::automations()`. Every call is authorized through the engine's
// `Authorizer`, validates its input completely before writing anything, and is visible to the
// next `publish`:
//
// clang-format off
//     herald::Automation created = engine.automations().create(alice, automation);
//     engine.automations().set_enabled(alice, created.id, false);
// clang-format on
//
// Failures throw herald::Error: permission_denied, not_found, already_exists (a name is unique
// within its scope), invalid_argument (with the field; with registries declared, a REGISTRY
// scope naming a plain project or a PROJECT scope naming a registry). Thread-safe.
#pragma once

#include <herald/authorizer.hpp>
#include <herald/automation.hpp>

#include <string_view>
#include <vector>

namespace herald {

namespace detail {
struct EngineState;
}

class AutomationManager {
  public:
    /// Validates and stores a new automation; returns it with id, creator and timestamps set
    /// (whatever `automation` held in those fields is ignored).
    Automation create(const Principal& who, Automation automation);
    /// Creates all or none (an import): every automation is authorized and validated, and the
    /// names checked against each other and their scopes, before any is written. Errors name the
    /// element, e.g. field "[2].trigger.window".
    std::vector<Automation> create_all(const Principal& who, std::vector<Automation> automations);
    /// Replaces the automation `id` with `automation` (its id, creator and creation time are kept).
    Automation update(const Principal& who, std::string_view id, Automation automation);
    void remove(const Principal& who, std::string_view id);
    Automation get(const Principal& who, std::string_view id) const;
    /// The automations whose scope is exactly `scope`, by name.
    std::vector<Automation> list(const Principal& who, const Scope& scope) const;
    /// Everything that can fire on events inside `scope`, enabled or not — what the Automations
    /// tab of a registered model, a registry or a project shows. For a collection: its own
    /// automations, those of its project or registry whose collection filter matches it, and
    /// its entity's, without run triggers. For a project or registry: its own, all of its
    /// collections', and its entity's. For an entity: all of the entity's. With registries
    /// declared (`EngineConfig::is_registry`), link triggers are left out outside registries.
    /// Entity-level first, then project- and registry-level, then collection-level, by path and
    /// name; automations `who` may not view are left out. Needs `view_automations` on `scope`.
    std::vector<Automation> list_applying_to(const Principal& who, const Scope& scope) const;
    Automation set_enabled(const Principal& who, std::string_view id, bool enabled);

  private:
    friend class Engine;
    explicit AutomationManager(detail::EngineState& state) noexcept : state_(state) {}
    detail::EngineState& state_;
};

}  // namespace herald
