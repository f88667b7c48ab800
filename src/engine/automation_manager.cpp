#include "engine/action_check.hpp"
#include "engine/engine_state.hpp"
#include "model/validate.hpp"
#include "util/error_path.hpp"
#include "util/ids.hpp"

#include <herald/automation_manager.hpp>
#include <herald/error.hpp>

#include <algorithm>
#include <mutex>
#include <set>
#include <tuple>

namespace herald {
namespace {

void authorize(const detail::EngineState& state, const Principal& who, Permission what,
               const Scope& where) {
    if (!state.authorizer->allows(who, what, where))
        throw Error(errc::permission_denied, "scope",
                    "'" + who.user + "' may not " +
                        (what == Permission::view_automations ? "view" : "manage") +
                        " automations in " + where.path());
}

void require_unique_name(const detail::EngineState& state, const Automation& automation,
                         std::string_view own_id) {
    auto it = state.by_scope_name.find(
        std::make_pair(detail::scope_key(automation.scope), automation.name));
    if (it != state.by_scope_name.end() && it->second != own_id)
        throw Error(errc::already_exists, "name",
                    "an automation named '" + automation.name + "' already exists in " +
                        automation.scope.path());
}

/// With registries declared, a REGISTRY scope names a registry and a PROJECT scope does not.
void require_registry_fit(const detail::EngineState& state, const Scope& scope) {
    if (!state.is_registry)
        return;
    if (scope.kind == ScopeKind::registry && !state.is_registry(scope.entity, scope.project))
        throw Error(errc::invalid_argument, "scope.registry",
                    "'" + scope.path() + "' is not a registry; use a PROJECT scope");
    if (scope.kind == ScopeKind::project && state.is_registry(scope.entity, scope.project))
        throw Error(errc::invalid_argument, "scope.project",
                    "'" + scope.path() + "' is a registry; use a REGISTRY scope");
}

void check_new(const detail::EngineState& state, const Principal& who,
               const Automation& automation) {
    authorize(state, who, Permission::manage_automations, automation.scope);
    detail::validate(automation);
    require_registry_fit(state, automation.scope);
}

/// Whether an automation's trigger can fire on an event of the named collection: run triggers
/// never do, and a collection filter must match.
bool fires_on_collection(const Trigger& trigger, std::string_view collection) {
    const EventKind kind = listens_to(trigger.kind());
    if (kind == EventKind::run_metrics_logged || kind == EventKind::run_state_changed)
        return false;
    return std::visit(
        [&](const auto& spec) {
            if constexpr (requires { spec.collection; })
                return !spec.collection || spec.collection->matches(collection);
            else
                return true;
        },
        trigger.spec());
}

/// Whether `automation` (of the same entity) can fire on events inside `where`.
bool applies_within(const Automation& automation, const Scope& where, bool links) {
    const TriggerKind kind = automation.trigger.kind();
    if (!links && (kind == TriggerKind::link_artifact || kind == TriggerKind::unlink_artifact))
        return false;
    const Scope& own = automation.scope;
    if (own.kind == ScopeKind::entity || where.kind == ScopeKind::entity)
        return where.kind != ScopeKind::collection ||
               fires_on_collection(automation.trigger, where.collection);
    if (own.project != where.project)
        return false;
    if (where.kind != ScopeKind::collection)
        return true;
    if (own.kind == ScopeKind::collection)
        return own.collection == where.collection;
    return fires_on_collection(automation.trigger, where.collection);
}

/// Entity-level first, then project- and registry-level, then collection-level; by path and
/// name within each.
int level_of(ScopeKind kind) noexcept {
    switch (kind) {
        case ScopeKind::entity:
            return 0;
        case ScopeKind::project:
        case ScopeKind::registry:
            return 1;
        case ScopeKind::collection:
            return 2;
    }
    return 3;
}

void stamp_new(Automation& automation, const Principal& who, Timestamp now) {
    automation.id = detail::new_uuid();
    automation.creator = who.user;
    automation.created_at = automation.updated_at = now;
}

/// Stores `automation` in place of `old` (same id), stamped now; the index and the run trigger
/// state follow: cooldowns carry over, windows restart when the condition changed
/// (detail::restarts_windows).
void replace(detail::EngineState& state, const Automation& old, Automation& automation) {
    automation.updated_at = state.clock->now();
    state.storage->automations().update(automation);
    auto updated = std::make_shared<const Automation>(automation);
    state.forget(old);
    state.remember(updated);
    state.evaluator->replace_automation(old, std::move(updated));
}

}  // namespace

namespace detail {

std::optional<AutomationChanges> refresh_automations(EngineState& state) {
    const AutomationStore& store = state.storage->automations();
    std::int64_t seen = 0;
    {
        std::shared_lock lock(state.mutex);
        if (!state.revision)
            return std::nullopt;
        seen = *state.revision;
    }
    if (store.revision() == seen)  // the common case: one read, no lock held meanwhile
        return std::nullopt;
    // Read and swapped under the exclusive lock: this engine's own changes, made under it too,
    // are then either in what is read or made after the swap, never lost between the two.
    std::unique_lock lock(state.mutex);
    const std::optional<std::int64_t> revision = store.revision();
    if (revision == state.revision)
        return std::nullopt;
    std::unordered_map<std::string, Automation> stored;
    for (Automation& a : store.all()) {
        const std::string id = a.id;
        stored.emplace(id, std::move(a));
    }
    AutomationChanges changes;
    std::vector<std::shared_ptr<const Automation>> gone;
    for (const auto& [id, held] : state.by_id)
        if (!stored.contains(id))
            gone.push_back(held);
    for (const auto& old : gone) {
        state.forget(*old);
        state.evaluator->forget_automation(old->id);
        ++changes.removed;
    }
    for (auto& [id, automation] : stored) {
        const auto it = state.by_id.find(id);
        if (it == state.by_id.end()) {
            state.remember(std::make_shared<const Automation>(std::move(automation)));
            ++changes.added;
        } else if (*it->second != automation) {
            const std::shared_ptr<const Automation> old = it->second;
            auto updated = std::make_shared<const Automation>(std::move(automation));
            state.forget(*old);
            state.remember(updated);
            state.evaluator->replace_automation(*old, std::move(updated));
            ++changes.changed;
        }
    }
    state.revision = revision;
    return changes;
}

}  // namespace detail

Automation AutomationManager::create(const Principal& who, Automation automation) {
    check_new(state_, who, automation);
    std::unique_lock lock(state_.mutex);
    require_unique_name(state_, automation, {});
    detail::check_action(state_, automation);
    stamp_new(automation, who, state_.clock->now());
    state_.storage->automations().insert(automation);
    state_.remember(std::make_shared<const Automation>(automation));
    return automation;
}

std::vector<Automation> AutomationManager::create_all(const Principal& who,
                                                      std::vector<Automation> automations) {
    for (std::size_t i = 0; i < automations.size(); ++i)
        detail::within_element(i, [&] { check_new(state_, who, automations[i]); });
    std::unique_lock lock(state_.mutex);
    std::set<std::pair<std::string, std::string>> batch_names;
    for (std::size_t i = 0; i < automations.size(); ++i)
        detail::within_element(i, [&] {
            require_unique_name(state_, automations[i], {});
            detail::check_action(state_, automations[i]);
            if (!batch_names.emplace(detail::scope_key(automations[i].scope), automations[i].name)
                     .second)
                throw Error(errc::already_exists, "name",
                            "the import names '" + automations[i].name + "' twice in " +
                                automations[i].scope.path());
        });
    const Timestamp now = state_.clock->now();
    std::size_t written = 0;
    try {
        for (; written < automations.size(); ++written) {
            stamp_new(automations[written], who, now);
            state_.storage->automations().insert(automations[written]);
        }
    } catch (...) {
        while (written > 0)
            state_.storage->automations().erase(automations[--written].id);
        throw;
    }
    for (const Automation& a : automations)
        state_.remember(std::make_shared<const Automation>(a));
    return automations;
}

Automation AutomationManager::update(const Principal& who, std::string_view id,
                                     Automation automation) {
    check_new(state_, who, automation);
    std::unique_lock lock(state_.mutex);
    const std::shared_ptr<const Automation> old = detail::find_automation(state_, id);
    authorize(state_, who, Permission::manage_automations, old->scope);
    require_unique_name(state_, automation, id);
    detail::check_action(state_, automation);
    automation.id = old->id;
    automation.creator = old->creator;
    automation.created_at = old->created_at;
    replace(state_, *old, automation);
    return automation;
}

void AutomationManager::remove(const Principal& who, std::string_view id) {
    std::unique_lock lock(state_.mutex);
    const std::shared_ptr<const Automation> old = detail::find_automation(state_, id);
    authorize(state_, who, Permission::manage_automations, old->scope);
    state_.storage->automations().erase(id);
    state_.forget(*old);
    state_.evaluator->forget_automation(id);
}

Automation AutomationManager::get(const Principal& who, std::string_view id) const {
    std::shared_lock lock(state_.mutex);
    const auto& found = detail::find_automation(state_, id);
    authorize(state_, who, Permission::view_automations, found->scope);
    return *found;
}

std::vector<Automation> AutomationManager::list(const Principal& who, const Scope& scope) const {
    authorize(state_, who, Permission::view_automations, scope);
    std::shared_lock lock(state_.mutex);
    const std::string key = detail::scope_key(scope);
    std::vector<Automation> out;
    for (auto it = state_.by_scope_name.lower_bound(std::make_pair(key, std::string()));
         it != state_.by_scope_name.end() && it->first.first == key; ++it)
        out.push_back(*state_.by_id.at(it->second));
    return out;
}

std::vector<Automation> AutomationManager::list_applying_to(const Principal& who,
                                                            const Scope& scope) const {
    authorize(state_, who, Permission::view_automations, scope);
    const bool links = scope.kind == ScopeKind::entity ||
                       detail::may_link_into(state_, scope.entity, scope.project);
    // Every scope of the entity that can hold such automations, as scope-key prefixes: the
    // entity's own key, and the keys of its projects, registries and collections (narrowed to
    // the project when one is given); `applies_within` decides on the scope itself.
    const std::string below =
        scope.kind == ScopeKind::entity ? scope.entity + '/' : scope.entity + '/' + scope.project;
    std::vector<std::string> prefixes{detail::scope_key(Scope::for_entity(scope.entity))};
    for (ScopeKind kind : {ScopeKind::project, ScopeKind::registry, ScopeKind::collection}) {
        std::string prefix(to_string(kind));
        prefix += '\0';
        prefix += below;
        prefixes.push_back(std::move(prefix));
    }
    std::vector<Automation> out;
    std::shared_lock lock(state_.mutex);
    for (const std::string& prefix : prefixes)
        for (auto it = state_.by_scope_name.lower_bound(std::make_pair(prefix, std::string()));
             it != state_.by_scope_name.end() && it->first.first.starts_with(prefix); ++it) {
            const Automation& a = *state_.by_id.at(it->second);
            if (a.scope.entity == scope.entity && applies_within(a, scope, links) &&
                state_.authorizer->allows(who, Permission::view_automations, a.scope))
                out.push_back(a);
        }
    lock.unlock();
    std::sort(out.begin(), out.end(), [](const Automation& a, const Automation& b) {
        return std::make_tuple(level_of(a.scope.kind), a.scope.path(), a.name) <
               std::make_tuple(level_of(b.scope.kind), b.scope.path(), b.name);
    });
    return out;
}

Automation AutomationManager::set_enabled(const Principal& who, std::string_view id, bool enabled) {
    std::unique_lock lock(state_.mutex);
    const std::shared_ptr<const Automation> old = detail::find_automation(state_, id);
    authorize(state_, who, Permission::manage_automations, old->scope);
    Automation automation = *old;
    automation.enabled = enabled;
    replace(state_, *old, automation);
    return automation;
}

}  // namespace herald
