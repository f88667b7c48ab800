#include "evaluate/trigger_evaluator.hpp"
#include "evaluate/condition_machine.hpp"

#include <algorithm>
#include <cmath>
#include <string>

namespace herald::detail {
namespace {

// Run ids are unique within a project; names never contain NUL (validation refuses it).
// Built in a per-thread buffer so that evaluating a known run allocates nothing.
std::string_view run_key_text(const Event& event, const Run& run) {
    thread_local std::string key;
    key.clear();
    key.append(event.entity).push_back('\0');
    key.append(event.project).push_back('\0');
    key.append(run.id);
    return key;
}

TriggerStateKey key_of(const std::shared_ptr<const Automation>& automation,
                       const std::string& run_id) {
    return {.automation_id = automation->id, .run_id = run_id};
}

std::size_t values_to_keep(const MetricCondition& condition) noexcept {
    return std::visit([](const auto& c) { return c.keep(); }, condition);
}

bool push_value(MetricCondition& condition, double value) {
    return std::visit([&](auto& c) { return c.push(value); }, condition);
}

/// Takes a saved value back after a restart.
void restore_value(MetricCondition& condition, double value) {
    std::visit(
        [&](auto& c) {
            if constexpr (requires { c.restore(value); })
                c.restore(value);
            else
                c.push(value);
        },
        condition);
}

bool holds_at(const MetricCondition& condition, double bound) noexcept {
    return std::visit([&](const auto& c) { return c.holds_at(bound); }, condition);
}

MetricObservation observe(const MetricCondition& condition) {
    return std::visit([](const auto& c) { return c.observe(); }, condition);
}

MetricObservation observe_resolved(const MetricCondition& condition, double bound) {
    return std::visit([&](const auto& c) { return c.observe_resolved(bound); }, condition);
}

/// The bound a resolved firing reports: the recovery bound, or the trigger's own.
double clearing_bound(const Trigger& trigger) {
    const Hysteresis& h = *trigger.hysteresis();
    if (h.recovery)
        return *h.recovery;
    return std::visit(
        [](const auto& spec) -> double {
            if constexpr (requires { spec.amount; })
                return spec.amount;
            else if constexpr (requires { spec.threshold; })
                return spec.threshold;
            else
                return 0;
        },
        trigger.spec());
}

/// The trigger without what does not change its windows: the cooldown and the run filter.
Trigger condition_part(const Trigger& trigger) {
    Trigger::Variant spec = trigger.spec();
    std::visit(
        [](auto& s) {
            if constexpr (requires { s.cooldown; })
                s.cooldown = {};
            if constexpr (requires { s.runs; })
                s.runs = {};
        },
        spec);
    return Trigger(std::move(spec));
}

std::string quoted(std::string_view s) {
    return "'" + std::string(s) + "'";
}

/// Why a trigger whose condition would fire does not: its cooldown for the run.
template <class Tracked>
void explain_cooldown(const Tracked& trigger, RunExplanation& out) {
    out.outcome = DryRunOutcome::cooldown;
    out.cooldown_until = *trigger.last_fired + *trigger.automation->trigger.cooldown();
    out.reason = "it fired for the run at " + format_rfc3339(*trigger.last_fired) +
                 "; its cooldown ends at " + format_rfc3339(*out.cooldown_until);
}

/// What a dry run's `feed` concluded: `last` is the latest value's transition, `cooling`
/// whether the cooldown kept it from firing.
template <class Tracked>
void explain_feed(const Tracked& trigger, bool no_value, Transition last, bool cooling,
                  const std::optional<MetricObservation>& observation, RunExplanation& out) {
    const MetricCondition& condition = *trigger.condition;
    if (observation) {
        out.outcome = DryRunOutcome::fires;
        out.metric = observation;
        return;
    }
    if (no_value) {
        out.outcome = DryRunOutcome::no_value;
        out.reason = "the event has no finite value of " + quoted(watched_metric(condition));
        return;
    }
    if (cooling) {
        explain_cooldown(trigger, out);
        return;
    }
    const Hysteresis& h = *trigger.automation->trigger.hysteresis();
    const ConditionProgress& p = trigger.progress;
    const std::string recovery = h.recovery ? configured_text(*h.recovery) : "";
    switch (p.state) {
        case ConditionState::pending:
            out.outcome = DryRunOutcome::pending;
            out.pending_evaluations =
                p.streak < h.pending_evaluations ? h.pending_evaluations - p.streak : 0;
            out.reason =
                "the condition holds (" + observe(condition).metric_condition + ") but must hold";
            if (out.pending_evaluations > 0)
                out.reason += " for " + std::to_string(out.pending_evaluations) + " more value" +
                              (out.pending_evaluations == 1 ? "" : "s");
            if (h.pending_for.count() > 0) {
                out.pending_until = *p.holding_since + h.pending_for;
                out.reason += (out.pending_evaluations > 0 ? " and" : "") + std::string(" until ") +
                              format_rfc3339(*out.pending_until);
            }
            return;
        case ConditionState::firing:
            // Held with a recovery bound: an episode fires once.
            out.outcome = DryRunOutcome::recovering;
            out.reason = std::string(p.fired ? "it fired in this episode"
                                             : "this episode began inside the cooldown") +
                         " (" + observe(condition).metric_condition +
                         "); it fires again once the statistic has crossed back past " + recovery;
            return;
        case ConditionState::recovering:
            out.outcome = DryRunOutcome::recovering;
            out.reason =
                unmet(condition).reason + "; recovering until it crosses back past " + recovery;
            return;
        case ConditionState::normal:
            break;
    }
    Unmet u = unmet(condition);
    out.outcome = u.window_not_full ? DryRunOutcome::window_not_full : DryRunOutcome::not_met;
    out.reason = std::move(u.reason);
    if (last == Transition::resolved || last == Transition::resolved_silent)
        out.reason += " (the episode is over)";
}

}  // namespace

bool restarts_windows(const Automation& before, const Automation& after) {
    return (before.enabled && !after.enabled) || before.scope != after.scope ||
           condition_part(before.trigger) != condition_part(after.trigger);
}

TriggerEvaluator::Shard& TriggerEvaluator::shard_of(RunKeyView run_key) noexcept {
    // The map uses the hash's low bits for its buckets; the shard takes high ones.
    return shards_[(run_key.hash >> 48) % shard_count];
}

void TriggerEvaluator::evaluate(const Event& event, std::span<const Candidate> candidates,
                                LazyNow& now, std::vector<RunVerdict>& fired,
                                std::vector<TriggerStateChange>& changes) {
    const Run* run = event.run();
    if (!run)
        return;
    const auto* state_change = std::get_if<RunStateChanged>(&event.body);
    if (candidates.empty() && !state_change)
        return;
    if (const auto due = earliest_release_.load(std::memory_order_relaxed);
        due != never && due <= now.get().time_since_epoch().count())
        release_due_runs(now.get());
    const std::string_view key_text = run_key_text(event, *run);
    const RunKeyView run_key{key_text, std::hash<std::string_view>{}(key_text)};
    Shard& shard = shard_of(run_key);
    std::optional<Timestamp> release_due_at;
    {
        std::lock_guard lock(shard.mutex);
        if (candidates.empty() && !shard.runs.contains(run_key))
            return;
        TrackedRun& tracked = run_of(shard, run_key, *run);
        for (Candidate candidate : candidates) {
            TrackedTrigger& trigger = track(tracked, *candidate);
            if (trigger.condition) {
                auto observation = feed(trigger, tracked.run_id,
                                        std::get<RunMetricsLogged>(event.body), now, &changes);
                if (observation)
                    fired.push_back({candidate, std::move(observation)});
            } else if (try_fire(trigger, now)) {
                fired.push_back({candidate, std::nullopt});
                changes.push_back({.automation_id = trigger.automation->id,
                                   .run_id = tracked.run_id,
                                   .fired = trigger.last_fired});
            }
        }
        if (state_change)
            release_due_at = note_state(shard, run_key, tracked, state_change->state, now.get());
    }
    if (release_due_at)
        lower_earliest_release(*release_due_at);
}

void TriggerEvaluator::dry_run(const Event& event, std::span<const Candidate> candidates,
                               LazyNow& now, DryRunState& state, std::vector<RunExplanation>& out) {
    const Run* run = event.run();
    if (!run)
        return;
    const std::string key_text(run_key_text(event, *run));  // the per-thread buffer is reused
    const RunKeyView run_key{key_text, std::hash<std::string_view>{}(key_text)};
    for (Candidate candidate : candidates) {
        TrackedTrigger& trigger = dry_run_trigger(state, run_key, *run, *candidate);
        RunExplanation& explanation = out.emplace_back(RunExplanation{.automation = candidate});
        if (trigger.condition)
            feed(trigger, run->id, std::get<RunMetricsLogged>(event.body), now, nullptr,
                 &explanation);
        else if (!try_fire(trigger, now))
            explain_cooldown(trigger, explanation);
    }
}

TriggerEvaluator::TrackedTrigger& TriggerEvaluator::dry_run_trigger(
    DryRunState& state, RunKeyView run_key, const Run& run,
    const std::shared_ptr<const Automation>& automation) {
    std::string key(run_key.text);
    key += '\0';
    key += automation->id;
    if (auto it = state.triggers.find(key); it != state.triggers.end())
        return it->second;
    std::optional<TrackedTrigger> copy;
    {
        Shard& shard = shard_of(run_key);
        std::lock_guard lock(shard.mutex);
        if (const auto it = shard.runs.find(run_key); it != shard.runs.end())
            for (const TrackedTrigger& t : it->second.triggers)
                if (t.automation.get() == automation.get()) {
                    copy = t;
                    break;
                }
    }
    if (!copy)
        copy = load(automation, run.id);
    if (copy->condition)
        if (auto* z = std::get_if<CrossRunZScoreCondition>(&*copy->condition)) {
            std::shared_ptr<RunPopulation>& population = state.populations[automation->id];
            if (!population)
                population = population_of(*automation)->copy();
            z->use_population(population);
        }
    return state.triggers.emplace(std::move(key), std::move(*copy)).first->second;
}

TriggerEvaluator::TrackedRun& TriggerEvaluator::run_of(Shard& shard, RunKeyView run_key,
                                                       const Run& run) {
    auto it = shard.runs.find(run_key);
    if (it == shard.runs.end())
        it = shard.runs.emplace(RunKey(run_key), TrackedRun{.run_id = run.id}).first;
    return it->second;
}

TriggerEvaluator::TrackedTrigger& TriggerEvaluator::track(
    TrackedRun& run, const std::shared_ptr<const Automation>& automation) {
    auto it = std::find_if(run.triggers.begin(), run.triggers.end(), [&](const TrackedTrigger& t) {
        return t.automation.get() == automation.get();
    });
    if (it != run.triggers.end())
        return *it;
    // First sight of this (automation, run) in this process: resume what the store kept.
    return run.triggers.emplace_back(load(automation, run.run_id));
}

TriggerEvaluator::TrackedTrigger TriggerEvaluator::load(
    const std::shared_ptr<const Automation>& automation, const std::string& run_id) {
    // The store is read first, so that a failing store leaves nothing half set up.
    const std::optional<RunTriggerState> saved = store_.load(key_of(automation, run_id));
    TrackedTrigger trigger{.automation = automation,
                           .condition_source = automation,
                           .condition = condition_for(automation, run_id)};
    if (saved) {
        if (trigger.condition)
            for (double value : saved->values)
                restore_value(*trigger.condition, value);
        trigger.last_step = saved->last_step;
        trigger.last_fired = saved->last_fired;
        trigger.progress = saved->condition;
    }
    return trigger;
}

std::optional<MetricObservation> TriggerEvaluator::feed(TrackedTrigger& trigger,
                                                        const std::string& run_id,
                                                        const RunMetricsLogged& body, LazyNow& now,
                                                        std::vector<TriggerStateChange>* changes,
                                                        RunExplanation* explain) {
    if (trigger.last_step && body.step < *trigger.last_step) {
        if (explain)
            *explain = {.automation = explain->automation,
                        .outcome = DryRunOutcome::no_value,
                        .reason = "step " + std::to_string(body.step) +
                                  " is before the latest accepted step, " +
                                  std::to_string(*trigger.last_step)};
        return std::nullopt;
    }
    MetricCondition& condition = *trigger.condition;
    const Hysteresis& hysteresis = *trigger.automation->trigger.hysteresis();
    const std::string& metric = watched_metric(condition);
    const ConditionProgress before = trigger.progress;
    thread_local std::vector<double> accepted;
    accepted.clear();
    std::optional<MetricObservation> observation;
    Transition last = Transition::none;  // of the latest value, and whether the cooldown held
    bool cooling = false;                // its firing back
    bool fired = false;
    for (const MetricPoint& point : body.metrics) {
        if (point.name != metric || !std::isfinite(point.value))
            continue;
        accepted.push_back(point.value);
        const bool holds = push_value(condition, point.value);
        const Transition transition = advance(
            trigger.progress, hysteresis, holds,
            [&] { return !holds_at(condition, *hysteresis.recovery); }, now);
        last = transition;
        cooling = false;
        if (observation)
            continue;
        switch (transition) {
            case Transition::activated:
            case Transition::held:
                // Without a recovery bound the cooldown is also the repeat interval of a
                // condition that keeps holding; with one, an episode fires once.
                if (transition == Transition::activated || !hysteresis.recovery) {
                    if (try_fire(trigger, now)) {
                        fired = true;
                        trigger.progress.fired = true;
                        observation = observe(condition);
                    } else {
                        cooling = true;
                    }
                }
                break;
            case Transition::resolved:
                if (hysteresis.notify_resolved)
                    observation =
                        observe_resolved(condition, clearing_bound(trigger.automation->trigger));
                break;
            case Transition::none:
            case Transition::resolved_silent:
                break;
        }
    }
    if (explain) {
        if (!accepted.empty())
            trigger.last_step = body.step;
        explain_feed(trigger, accepted.empty(), last, cooling, observation, *explain);
        return observation;
    }
    if (!accepted.empty()) {
        trigger.last_step = body.step;
        TriggerStateChange& change =
            changes->emplace_back(TriggerStateChange{.automation_id = trigger.automation->id,
                                                     .run_id = run_id,
                                                     .values = accepted,
                                                     .step = body.step,
                                                     .keep = values_to_keep(condition)});
        if (fired)
            change.fired = trigger.last_fired;
        if (trigger.progress != before)
            change.condition = trigger.progress;
        if (const auto* z = std::get_if<CrossRunZScoreCondition>(&condition)) {
            change.population_value = accepted.back();
            change.population_keep = z->population_size();
        }
    }
    return observation;
}

bool TriggerEvaluator::try_fire(TrackedTrigger& trigger, LazyNow& now) {
    const auto cooldown = *trigger.automation->trigger.cooldown();
    if (trigger.last_fired && now.get() - *trigger.last_fired < cooldown)
        return false;
    trigger.last_fired = now.get();
    return true;
}

std::optional<Timestamp> TriggerEvaluator::note_state(Shard& shard, RunKeyView run_key,
                                                      TrackedRun& run, RunState state,
                                                      Timestamp now) {
    if (state == RunState::running) {
        run.ended_at.reset();
        return std::nullopt;
    }
    run.ended_at = now;
    const Timestamp due = release_due(run);
    schedule_release(shard, {.due = due, .ended_at = now, .run_key = RunKey(run_key)});
    return due;
}

Timestamp TriggerEvaluator::release_due(const TrackedRun& run) {
    Timestamp due = *run.ended_at;
    for (const TrackedTrigger& t : run.triggers) {
        const Timestamp since = std::max(*run.ended_at, t.last_fired.value_or(*run.ended_at));
        due = std::max(due, since + *t.automation->trigger.cooldown());
    }
    return due;
}

void TriggerEvaluator::schedule_release(Shard& shard, Release release) {
    shard.releases.push_back(std::move(release));
    std::push_heap(shard.releases.begin(), shard.releases.end(), std::greater<>{});
    shard.next_release.store(shard.releases.front().due.time_since_epoch().count(),
                             std::memory_order_relaxed);
}

void TriggerEvaluator::release_due_runs(Shard& shard, Timestamp now) {
    while (!shard.releases.empty() && shard.releases.front().due <= now) {
        std::pop_heap(shard.releases.begin(), shard.releases.end(), std::greater<>{});
        Release release = std::move(shard.releases.back());
        shard.releases.pop_back();
        auto it = shard.runs.find(release.run_key);
        // Stale when the run came back to life or ended again (which scheduled anew).
        if (it == shard.runs.end() || it->second.ended_at != release.ended_at)
            continue;
        release.due = release_due(it->second);
        if (release.due > now)
            schedule_release(shard, std::move(release));
        else
            erase_run(shard, release.run_key);
    }
    shard.next_release.store(
        shard.releases.empty() ? never : shard.releases.front().due.time_since_epoch().count(),
        std::memory_order_relaxed);
}

void TriggerEvaluator::release_due_runs(Timestamp now) {
    // One thread sweeps; the others carry on and find the work done (or do it next time).
    std::unique_lock sweeping(release_mutex_, std::try_to_lock);
    if (!sweeping)
        return;
    Timestamp::rep earliest = never;
    for (Shard& shard : shards_) {
        if (shard.next_release.load(std::memory_order_relaxed) <= now.time_since_epoch().count()) {
            std::lock_guard lock(shard.mutex);
            release_due_runs(shard, now);
        }
        earliest = std::min(earliest, shard.next_release.load(std::memory_order_relaxed));
    }
    earliest_release_.store(earliest, std::memory_order_relaxed);
}

void TriggerEvaluator::lower_earliest_release(Timestamp due) {
    // Under the sweep's mutex: a sweep that read this shard before the new release reached it
    // finishes first, and its result is then lowered here.
    std::lock_guard lock(release_mutex_);
    const Timestamp::rep d = due.time_since_epoch().count();
    if (d < earliest_release_.load(std::memory_order_relaxed))
        earliest_release_.store(d, std::memory_order_relaxed);
}

void TriggerEvaluator::erase_run(Shard& shard, const RunKey& run_key) {
    auto it = shard.runs.find(run_key);
    for (const TrackedTrigger& t : it->second.triggers)
        store_.erase_run(key_of(t.automation, it->second.run_id));
    shard.runs.erase(it);
}

void TriggerEvaluator::forget_changes(const Event& event,
                                      std::span<const TriggerStateChange> changes) {
    const Run* run = event.run();
    if (!run || changes.empty())
        return;
    const std::string_view key_text = run_key_text(event, *run);
    const RunKeyView run_key{key_text, std::hash<std::string_view>{}(key_text)};
    Shard& shard = shard_of(run_key);
    std::lock_guard lock(shard.mutex);
    const auto it = shard.runs.find(run_key);
    if (it == shard.runs.end())
        return;
    std::erase_if(it->second.triggers, [&](const TrackedTrigger& t) {
        return std::any_of(changes.begin(), changes.end(), [&](const TriggerStateChange& c) {
            return c.automation_id == t.automation->id;
        });
    });
}

void TriggerEvaluator::forget_automation(std::string_view automation_id) {
    for (Shard& shard : shards_) {
        std::lock_guard lock(shard.mutex);
        for (auto it = shard.runs.begin(); it != shard.runs.end();) {
            std::erase_if(it->second.triggers, [&](const TrackedTrigger& t) {
                return t.automation->id == automation_id;
            });
            it = it->second.triggers.empty() ? shard.runs.erase(it) : std::next(it);
        }
    }
    forget_population(automation_id);
    store_.erase_automation(automation_id);
}

std::shared_ptr<RunPopulation> TriggerEvaluator::population_of(const Automation& automation) {
    std::lock_guard lock(populations_mutex_);
    auto it = populations_.find(automation.id);
    if (it != populations_.end())
        return it->second;
    const auto& spec = *automation.trigger.get_if<trigger::MetricZScore>();
    auto population = std::make_shared<RunPopulation>(spec.recent_runs);
    for (const PopulationValue& v : store_.load_population(automation.id))
        population->restore(v.run_id, v.value);
    populations_.emplace(automation.id, population);
    return population;
}

std::optional<MetricCondition> TriggerEvaluator::condition_for(
    const std::shared_ptr<const Automation>& a, std::string_view run_id) {
    const auto* z = a->trigger.get_if<trigger::MetricZScore>();
    if (z && z->mode == ZScoreMode::across_runs)
        return make_condition(a->trigger, population_of(*a), run_id);
    return make_condition(a->trigger);
}

void TriggerEvaluator::forget_population(std::string_view automation_id) {
    std::lock_guard lock(populations_mutex_);
    if (auto it = populations_.find(std::string(automation_id)); it != populations_.end())
        populations_.erase(it);
}

void TriggerEvaluator::replace_automation(const Automation& before,
                                          std::shared_ptr<const Automation> after) {
    const bool restart = restarts_windows(before, *after);
    if (restart) {  // first, so that the runs' new conditions start from an empty population
        forget_population(after->id);
        store_.restart_windows(after->id);
    }
    for (Shard& shard : shards_) {
        std::lock_guard lock(shard.mutex);
        for (auto& [key, run] : shard.runs)
            for (TrackedTrigger& t : run.triggers) {
                if (t.automation->id != after->id)
                    continue;
                t.automation = after;
                if (restart) {
                    t.condition_source = after;
                    t.condition = condition_for(after, run.run_id);
                    t.progress = {};
                }
            }
    }
}

std::size_t TriggerEvaluator::tracked_runs() const {
    std::size_t n = 0;
    for (const Shard& shard : shards_) {
        std::lock_guard lock(shard.mutex);
        n += shard.runs.size();
    }
    return n;
}

}  // namespace herald::detail
