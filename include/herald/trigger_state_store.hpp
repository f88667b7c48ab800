// herald/trigger_state_store.hpp — where run triggers keep their windows and cooldowns.
//
// Run triggers (RUN_METRIC_*, RUN_STATE) remember, per automation and run, the most recent
// metric values (their window), when they last fired (their cooldown) and, for metric
// triggers, where their condition stands (normal, pending, firing, recovering). The engine
// evaluates from memory; what an event changed reaches the store as `TriggerStateChange`s, in
// small increments (no window is rewritten whole), recorded in the transaction of the event's
// firings (`Storage::record_publish`, which calls `apply`). A persistent backend so resumes
// after a restart where the last durable publish left it. The calls `apply` makes, one by one:
//
// clang-format off
//     herald::TriggerStateStore& store = storage->trigger_state();
//     const double points[] = {0.31, 0.29};
//     store.append_values({.automation_id = id, .run_id = "run-1"}, points, /*step=*/42,
//                         /*keep=*/5);
//     store.record_firing({.automation_id = id, .run_id = "run-1"}, clock.now());
//     store.save_condition({.automation_id = id, .run_id = "run-1"},
//                          {.state = herald::ConditionState::firing, .streak = 3});
//     std::optional<herald::RunTriggerState> s = store.load({id, "run-1"});  // after a restart
// clang-format on
//
// The engine reads a (automation, run) state at most once per process (the first time the
// run is seen, or again after a publish that changed it failed), so `load` need not be fast;
// `apply` is on the publish path.
#pragma once

#include <herald/clock.hpp>
#include <herald/trigger.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace herald {

/// Names the state of one automation for one run (run ids are unique within the project the
/// automation is scoped to). The views must stay valid for the call they are passed to.
struct TriggerStateKey {
    std::string_view automation_id;
    std::string_view run_id;
};

/// Where a metric trigger's condition stands for one run (see `Hysteresis`). Value type.
struct ConditionProgress {
    ConditionState state = ConditionState::normal;
    /// Consecutive evaluations at which the condition has held (counted up to the pending
    /// period's evaluations and no further); 0 in `normal`.
    std::uint64_t streak = 0;
    /// When the condition started holding; nullopt in `normal`.
    std::optional<Timestamp> holding_since;
    /// Whether the automation fired since it last left `normal` (a resolved firing follows
    /// only such an episode).
    bool fired = false;

    friend bool operator==(const ConditionProgress&, const ConditionProgress&) = default;
};

/// What a store holds for one (automation, run). Value type.
struct RunTriggerState {
    std::vector<double> values;             ///< the most recent accepted values, oldest first
    std::optional<std::int64_t> last_step;  ///< the step of the latest accepted value
    std::optional<Timestamp> last_fired;    ///< when the automation last fired for the run
    ConditionProgress condition;            ///< metric triggers: where the condition stands

    friend bool operator==(const RunTriggerState&, const RunTriggerState&) = default;
};

/// One run's latest value in an automation's population (z-scores across runs).
struct PopulationValue {
    std::string run_id;
    double value = 0;
    friend bool operator==(const PopulationValue&, const PopulationValue&) = default;
};

/// What one event changed in the state of one (automation, run): recorded with the event's
/// firings (`Storage::record_publish`), so that a cooldown is never kept for a firing that was
/// not, nor a firing without the window and cooldown it left. Value type.
struct TriggerStateChange {
    std::string automation_id;
    std::string run_id;
    /// Accepted metric values (oldest first, all at `step`): appended, keeping the newest `keep`.
    std::vector<double> values;
    std::int64_t step = 0;
    std::size_t keep = 0;
    /// When the automation fired for the run, if it did.
    std::optional<Timestamp> fired;
    /// Where the condition stands now, when the event moved it.
    std::optional<ConditionProgress> condition;
    /// A z-score across runs: the run's latest value in the automation's population, which
    /// keeps the `population_keep` most recently updated runs.
    std::optional<double> population_value;
    std::size_t population_keep = 0;

    TriggerStateKey key() const noexcept { return {automation_id, run_id}; }
    friend bool operator==(const TriggerStateChange&, const TriggerStateChange&) = default;
};

/// Persists run trigger state. Implementations must be thread-safe; herald never calls it
/// concurrently for the same key.
class TriggerStateStore {
  public:
    virtual ~TriggerStateStore() = default;

    /// Appends accepted metric values (oldest first, all at `step`) and keeps only the newest
    /// `keep` values of the key; creates the key when it is new.
    virtual void append_values(const TriggerStateKey& key, std::span<const double> values,
                               std::int64_t step, std::size_t keep) = 0;
    /// Remembers that the automation fired for the run at `time`; creates the key when new.
    virtual void record_firing(const TriggerStateKey& key, Timestamp time) = 0;
    /// Replaces where the key's condition stands; creates the key when new.
    virtual void save_condition(const TriggerStateKey& key, const ConditionProgress& progress) = 0;
    /// The stored state; nullopt when nothing is stored for the key.
    virtual std::optional<RunTriggerState> load(const TriggerStateKey& key) const = 0;
    /// Drops the state of one (automation, run): the run ended and its cooldown passed.
    virtual void erase_run(const TriggerStateKey& key) = 0;
    /// Drops every run's state of an automation, and its population: it was deleted.
    virtual void erase_automation(std::string_view automation_id) = 0;
    /// Makes `value` the latest of `run_id` in the automation's population (a z-score across
    /// runs) and its most recently updated run, keeping only the `keep` most recently updated.
    virtual void put_population_value(std::string_view automation_id, std::string_view run_id,
                                      double value, std::size_t keep) = 0;
    /// The automation's population, least recently updated run first.
    virtual std::vector<PopulationValue> load_population(std::string_view automation_id) const = 0;
    /// Restarts the windows of every run of an automation (and its population): drops their values
    /// and sets their condition back to normal, keeping when each last fired and its latest step
    /// (its trigger's condition changed, or it was disabled).
    virtual void restart_windows(std::string_view automation_id) = 0;

    /// Applies `changes` in order, each as the calls above would: values, population value,
    /// condition, firing. A persistent backend applies them inside the transaction that
    /// records their firings; this default makes the calls one by one.
    virtual void apply(std::span<const TriggerStateChange> changes);
};

}  // namespace herald
