// What the engine's parts share: configuration, the automations and the matching index.
#pragma once

#include "evaluate/trigger_evaluator.hpp"
#include "match/automation_index.hpp"

#include <herald/engine.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <utility>

namespace herald::detail {

struct EngineState {
    explicit EngineState(EngineConfig config);

    std::shared_ptr<Storage> storage;
    std::shared_ptr<const Clock> clock;
    std::shared_ptr<const Authorizer> authorizer;
    std::shared_ptr<SecretStore> secrets;
    Logger logger;
    std::shared_ptr<Metrics> metrics;
    std::function<bool(std::string_view, std::string_view)> is_registry;  ///< may be empty
    std::optional<RetentionPolicy> retention;                             ///< validated
    std::chrono::milliseconds refresh_interval;                           ///< validated
    /// How long after its firing a delivery's first attempt is due: the retry schedule's first
    /// wait (zero when the schedule is empty).
    std::chrono::nanoseconds first_attempt_delay{};
    /// The dispatcher's `link_builder`, for the Slack messages a dry run shows; may be empty.
    std::function<std::string(const Firing&)> link_builder;
    /// Run trigger windows and cooldowns; `evaluate` runs under a shared lock of `mutex`,
    /// `forget_automation` under an exclusive one. Shared with the publishes in flight, which
    /// may fail (and `forget_changes`) after the engine is gone.
    std::shared_ptr<TriggerEvaluator> evaluator =
        std::make_shared<TriggerEvaluator>(storage->trigger_state());
    /// Held, for a run event, from its evaluation until its record is handed to the store
    /// (striped by run id), so that the store applies a run's trigger state changes in the
    /// order they were made however many threads publish that run's events.
    std::array<std::mutex, 64> run_order;

    /// Guards everything below: publish reads under a shared lock, management writes under an
    /// exclusive one, so a change is visible to the next publish.
    mutable std::shared_mutex mutex;
    AutomationIndex index;  ///< enabled automations only
    std::unordered_map<std::string, std::shared_ptr<const Automation>> by_id;
    /// (scope key, name) -> id: names are unique within a scope; `list` reads it in name order.
    std::map<std::pair<std::string, std::string>, std::string, std::less<>> by_scope_name;
    /// The store's `AutomationStore::revision` when the automations above were read from it;
    /// nullopt for a store only this process writes.
    std::optional<std::int64_t> revision;

    /// Adds to or removes from the in-memory views (not the store).
    void remember(std::shared_ptr<const Automation> automation);
    void forget(const Automation& automation);
};

/// How many automations `refresh_automations` found added, changed and removed.
struct AutomationChanges {
    std::size_t added = 0;
    std::size_t changed = 0;
    std::size_t removed = 0;
};

/// Reads the automations again when the store's revision moved past `state.revision`, and
/// brings the in-memory views and the run trigger state to what the store holds, under an
/// exclusive lock of `state.mutex` (see `Engine::refresh`); nullopt when the revision had not
/// moved.
std::optional<AutomationChanges> refresh_automations(EngineState& state);

/// The automation with `id`, under a lock of `state.mutex`; throws herald::Error (not_found,
/// field "id") when there is none.
const std::shared_ptr<const Automation>& find_automation(const EngineState& state,
                                                         std::string_view id);

/// Whether events of `project` can fire link triggers: it is a registry, or the host declares
/// none.
bool may_link_into(const EngineState& state, std::string_view entity, std::string_view project);

/// The key under which names are unique: the scope's kind and path.
std::string scope_key(const Scope& scope);

/// The firing of `automation` on `event` at `now`, with what its run metric trigger saw.
Firing make_firing(const Automation& automation, std::optional<MetricObservation> metric,
                   const Event& event, Timestamp now);

}  // namespace herald::detail
