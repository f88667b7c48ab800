// Run trigger evaluation: per-run window state, cooldowns and their persistence.
//
// The engine hands every run event, with the automations whose scope and filters matched it,
// to `TriggerEvaluator::evaluate`, which feeds each metric automation the values of its metric
// (in the order they appear in the event), applies the cooldown and says which automations
// fire. Every accepted value and firing is handed back as a `TriggerStateChange`, which the
// engine records with the event's firings in one write; state a process has not seen yet is
// loaded from the `TriggerStateStore` on first use, so a restart with a persistent store resumes
// where the last recorded event left it.
//
// Semantics decided here (documented in doc/triggers.md):
// - non-finite values are ignored; a value whose step is lower than the latest accepted step of
//   that (automation, run) is ignored (as W&B ignores history logged to an earlier step); values
//   at the same step are taken in arrival order;
// - each accepted value is one evaluation of a metric trigger's state machine (normal, pending,
//   firing, recovering; condition_machine.hpp): it fires when the state enters firing and, without
//   a recovery bound, again while it stays firing; a resolved firing when an episode that fired
//   returns to normal, if asked for;
// - an automation fires at most once per event (the first firing of its values), and at most
//   once per run per cooldown: it fires at `now` only if it never fired for the run or
//   `now - last_fired >= cooldown`. The state machine runs regardless: an activation inside the
//   cooldown enters firing without a firing. Resolved firings neither wait for nor start a
//   cooldown;
// - a z-score across runs compares each value with the latest values of the metric in the
//   automation's `recent_runs` other runs that most recently logged it (all of its runs in the
//   project, ended ones too, kept in the store apart from the runs' own state);
// - editing an automation keeps its runs' state (see `restarts_windows` for what restarts
//   the windows); a restart keeps each run's last firing, so cooldowns hold across edits;
// - a run that reaches a terminal state (Finished, Failed, Crashed, Killed) is released — its
//   state dropped from memory and store — once every automation's cooldown has passed since the
//   later of the run's end and its last firing; a run that enters Running again before that
//   is kept. Values logged after the end still count (late arrivals from other threads).
//
// Thread safety: `evaluate` may be called from any thread. Runs are spread over shards, each
// with its own mutex, so runs in different shards do not contend. `forget_automation` and
// `replace_automation` must not run concurrently with an `evaluate` that was given the same
// automation (the engine holds its
// automation lock exclusively around it and shared around `evaluate`).
#pragma once

#include "evaluate/metric_conditions.hpp"
#include "util/lazy_now.hpp"

#include <herald/automation.hpp>
#include <herald/dry_run.hpp>
#include <herald/event.hpp>
#include <herald/trigger_state_store.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace herald::detail {

/// An automation that fires on a run event and what its metric trigger saw.
struct RunVerdict {
    const std::shared_ptr<const Automation>* automation;  ///< one of the candidates passed in
    std::optional<MetricObservation> metric;              ///< set for metric triggers
};

/// What a dry run concluded for one run trigger on one event (see `TriggerEvaluator::dry_run`):
/// the fields of `herald::DryRunVerdict` the trigger decides.
struct RunExplanation {
    const std::shared_ptr<const Automation>* automation;  ///< one of the candidates passed in
    DryRunOutcome outcome = DryRunOutcome::fires;
    std::string reason;  ///< empty when it fires: the firing's reason then
    std::optional<Timestamp> cooldown_until;
    std::uint64_t pending_evaluations = 0;
    std::optional<Timestamp> pending_until;
    std::optional<MetricObservation> metric;
};

/// Whether replacing `before` by `after` restarts the windows of its runs: when the trigger's
/// condition changes (anything but its cooldown and run filter), its scope changes, or it is
/// disabled. A new name, description, action, cooldown or run filter, or enabling, keeps them.
bool restarts_windows(const Automation& before, const Automation& after);

class TriggerEvaluator {
  public:
    using Candidate = const std::shared_ptr<const Automation>*;

    explicit TriggerEvaluator(TriggerStateStore& store) : store_(store) {}

    /// `event` is a run event; `candidates` are the enabled automations whose scope, trigger
    /// kind and filters matched it. Appends those that fire to `fired`, and what the event
    /// changed in their state to `changes`: the caller records those with the firings (the
    /// state in memory has moved already). `now` is read only when a condition holds, a run
    /// changes state or a release may be due.
    void evaluate(const Event& event, std::span<const Candidate> candidates, LazyNow& now,
                  std::vector<RunVerdict>& fired, std::vector<TriggerStateChange>& changes);
    /// The `changes` that evaluating `event` made could not be recorded: drops the state they
    /// moved from memory, so that the next event of the run reads it from the store again.
    void forget_changes(const Event& event, std::span<const TriggerStateChange> changes);

    class DryRunState;
    /// Evaluates `event` as `evaluate` would, against copies in `state` of the candidates' run
    /// state (taken from memory or the store the first time a dry run needs them), and appends
    /// one explanation per candidate to `out`. Changes nothing but `state`: neither the
    /// evaluator's state nor the store. A run that ended is not released in the copies.
    void dry_run(const Event& event, std::span<const Candidate> candidates, LazyNow& now,
                 DryRunState& state, std::vector<RunExplanation>& out);

    /// Drops all state of an automation (it was deleted), in memory and in the store.
    void forget_automation(std::string_view automation_id);
    /// `after` replaces `before` (same id): the runs' state carries over to it, in memory and in
    /// the store, their windows restarted when `restarts_windows(before, *after)`; each run's
    /// last firing (its cooldown) always carries over.
    void replace_automation(const Automation& before, std::shared_ptr<const Automation> after);

    /// How many runs have state in memory; for tests.
    std::size_t tracked_runs() const;

  private:
    /// One automation's state for one run.
    struct TrackedTrigger {
        std::shared_ptr<const Automation> automation;  ///< the automation as it is now
        /// The version whose trigger `condition` reads (kept alive here): `automation`, or an
        /// earlier one with the same condition.
        std::shared_ptr<const Automation> condition_source;
        std::optional<MetricCondition> condition;  ///< nullopt for RUN_STATE
        std::optional<std::int64_t> last_step;
        std::optional<Timestamp> last_fired;
        ConditionProgress progress;  ///< metric triggers: pending, firing, recovering
    };
    struct TrackedRun {
        std::string run_id;
        std::vector<TrackedTrigger> triggers;
        std::optional<Timestamp> ended_at;  ///< set while the run is in a terminal state
    };
    /// A run's key (entity, project, run id) with its hash, computed once per event for both
    /// the shard and the map lookup.
    struct RunKeyView {
        std::string_view text;
        std::size_t hash;
    };
    struct RunKey {
        std::string text;
        std::size_t hash;
        explicit RunKey(RunKeyView k) : text(k.text), hash(k.hash) {}
    };
    struct KeyHash {
        using is_transparent = void;
        std::size_t operator()(const RunKey& k) const noexcept { return k.hash; }
        std::size_t operator()(const RunKeyView& k) const noexcept { return k.hash; }
    };
    struct KeyEqual {
        using is_transparent = void;
        template <class A, class B>
        bool operator()(const A& a, const B& b) const noexcept {
            return a.hash == b.hash && std::string_view(a.text) == std::string_view(b.text);
        }
    };
    struct Release {
        Timestamp due;
        Timestamp ended_at;  ///< the end it was scheduled for; stale when the run changed since
        RunKey run_key;
        friend bool operator>(const Release& a, const Release& b) { return a.due > b.due; }
    };
    static constexpr Timestamp::rep never = std::numeric_limits<Timestamp::rep>::max();
    struct alignas(64) Shard {
        mutable std::mutex mutex;
        std::unordered_map<RunKey, TrackedRun, KeyHash, KeyEqual> runs;
        std::vector<Release> releases;  ///< a min-heap on `due`
        /// The earliest due release, readable without the mutex; `never` when none.
        std::atomic<Timestamp::rep> next_release{never};
    };
    static constexpr std::size_t shard_count = 64;

    Shard& shard_of(RunKeyView run_key) noexcept;
    TrackedRun& run_of(Shard& shard, RunKeyView run_key, const Run& run);
    TrackedTrigger& track(TrackedRun& run, const std::shared_ptr<const Automation>& automation);
    /// The state of `automation` for `run_id` as the store kept it (fresh when it kept none).
    TrackedTrigger load(const std::shared_ptr<const Automation>& automation,
                        const std::string& run_id);
    /// Feeds the event's values to a metric trigger; says what it fires with, if it does, and
    /// appends what it changed to `changes`. With `explain` (a dry run, `changes` null), says
    /// why it does not.
    std::optional<MetricObservation> feed(TrackedTrigger& trigger, const std::string& run_id,
                                          const RunMetricsLogged& body, LazyNow& now,
                                          std::vector<TriggerStateChange>* changes,
                                          RunExplanation* explain = nullptr);
    /// Whether the cooldown lets the trigger fire now; if so, notes the firing in memory.
    bool try_fire(TrackedTrigger& trigger, LazyNow& now);
    /// A dry run's copy of the state of `automation` for a run, made on first use.
    TrackedTrigger& dry_run_trigger(DryRunState& state, RunKeyView run_key, const Run& run,
                                    const std::shared_ptr<const Automation>& automation);
    /// Notes a run's new state; returns when its release is due if it ended.
    std::optional<Timestamp> note_state(Shard& shard, RunKeyView run_key, TrackedRun& run,
                                        RunState state, Timestamp now);
    static Timestamp release_due(const TrackedRun& run);
    void schedule_release(Shard& shard, Release release);
    void release_due_runs(Shard& shard, Timestamp now);
    /// Releases due runs in every shard whose next release is due.
    void release_due_runs(Timestamp now);
    void lower_earliest_release(Timestamp due);
    void erase_run(Shard& shard, const RunKey& run_key);

    /// The population of a z-score across runs, shared by its runs; loaded from the store on
    /// first use.
    std::shared_ptr<RunPopulation> population_of(const Automation& automation);
    std::optional<MetricCondition> condition_for(const std::shared_ptr<const Automation>& a,
                                                 std::string_view run_id);
    void forget_population(std::string_view automation_id);

    TriggerStateStore& store_;
    std::array<Shard, shard_count> shards_;
    std::mutex populations_mutex_;  ///< taken inside a shard's mutex, never the other way
    std::unordered_map<std::string, std::shared_ptr<RunPopulation>> populations_;
    /// The earliest `next_release` of all shards: the publish path reads it without a lock.
    std::atomic<Timestamp::rep> earliest_release_{never};
    std::mutex release_mutex_;  ///< serialises sweeps and lowering `earliest_release_`
};

/// The copies a dry run evaluates against, kept across the events of one sequence.
class TriggerEvaluator::DryRunState {
    friend class TriggerEvaluator;
    /// By run key, NUL, automation id.
    std::unordered_map<std::string, TrackedTrigger> triggers;
    /// Copies of the populations of z-scores across runs, by automation id.
    std::unordered_map<std::string, std::shared_ptr<RunPopulation>> populations;
};

}  // namespace herald::detail
