// Run metric trigger throughput, layer by layer (items = metric points):
//
// - BM_Condition*: one condition's per-point path (src/evaluate/metric_conditions.hpp) — the
//   window update and the comparison, nothing else — for windows 5 and 60 and every aggregate.
// - BM_ConditionZScoreAcrossRuns: a z-score across runs, each value from the next of R runs
//   (R = 30 or 1,000 in the population): the hash lookup, the move to the newest and the sums.
// - BM_Evaluator: TriggerEvaluator::evaluate with one matching threshold automation: the run's
//   shard lookup and lock, the cooldown check and the write of the accepted values to the
//   in-memory TriggerStateStore, with 1 or 16 points of the metric per logged event.
// - BM_EvaluatorStates: the same with a threshold the windowed values hover around (avg over 5
//   of [0, 1) values against 0.5), plain (arg 0: normal <-> firing on every crossing) or with a
//   pending period of 3 evaluations and a recovery threshold of 0.4 (arg 1: normal, pending,
//   firing, recovering), so the state machine and its writes to the store are on the path.
// - BM_PublishMetrics: the whole public Engine::publish (copy of the event passed by value, clock,
//   index, filters, evaluation, receipt) with one threshold automation on the project.
// - BM_PublishUnwatchedProject vs BM_IndexLookup: a metrics event for a project with no
//   automations while 0 or 100,000 metric automations sit in 1,000 other projects: the full
//   publish against the bare index lookup it contains; BM_CopyEvent is the copy of the event
//   that passing it by value costs the caller.
//
// Apart from BM_EvaluatorStates none of the conditions is met, so no firing is built: these are
// the per-point costs. (BM_EvaluatorStates fires once; the cooldown holds back the rest.)
#include "evaluate/metric_conditions.hpp"
#include "evaluate/trigger_evaluator.hpp"
#include "match/automation_index.hpp"
#include "storage/memory_trigger_state_store.hpp"

#include <herald/engine.hpp>
#include <herald/memory_storage.hpp>

#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

namespace {

using namespace herald;
using namespace herald::detail;

/// Values in [0, 1): a threshold of 2 is never reached, a change of 1000 % never happens.
const std::vector<double>& values() {
    static const std::vector<double> v = [] {
        std::mt19937_64 rng(1);
        std::uniform_real_distribution<double> d(0, 1);
        std::vector<double> out(4096);
        for (double& x : out)
            x = d(rng);
        return out;
    }();
    return v;
}

template <class Condition, class Spec>
void run_condition(benchmark::State& state, const Spec& spec) {
    Condition condition{spec};
    const std::vector<double>& v = values();
    std::size_t i = 0;
    bool any = false;
    for (auto _ : state) {
        any |= condition.push(v[i]);
        i = (i + 1) & (v.size() - 1);
    }
    benchmark::DoNotOptimize(any);
    state.SetItemsProcessed(state.iterations());
}

std::size_t window_of(const benchmark::State& state) {
    return static_cast<std::size_t>(state.range(0));
}

void BM_ConditionThresholdAvg(benchmark::State& state) {
    run_condition<ThresholdCondition>(
        state,
        trigger::MetricThreshold{.metric = "loss", .window = window_of(state), .threshold = 2});
}
void BM_ConditionThresholdMin(benchmark::State& state) {
    run_condition<ThresholdCondition>(state, trigger::MetricThreshold{.metric = "loss",
                                                                      .window = window_of(state),
                                                                      .aggregate = Aggregate::min,
                                                                      .threshold = 2});
}
void BM_ConditionThresholdMax(benchmark::State& state) {
    run_condition<ThresholdCondition>(state, trigger::MetricThreshold{.metric = "loss",
                                                                      .window = window_of(state),
                                                                      .aggregate = Aggregate::max,
                                                                      .threshold = 2});
}
void BM_ConditionChange(benchmark::State& state) {
    run_condition<ChangeCondition>(state, trigger::MetricChange{.metric = "loss",
                                                                .current_window = window_of(state),
                                                                .prior_window = window_of(state),
                                                                .amount = 10});
}
void BM_ConditionZScore(benchmark::State& state) {
    run_condition<ZScoreCondition>(
        state,
        trigger::MetricZScore{.metric = "loss", .window = window_of(state), .threshold = 100});
}
// Arg: runs in the population (recent_runs); the values come from as many runs in turn.
void BM_ConditionZScoreAcrossRuns(benchmark::State& state) {
    const trigger::MetricZScore spec{.metric = "loss",
                                     .mode = ZScoreMode::across_runs,
                                     .recent_runs = window_of(state),
                                     .threshold = 100};
    auto population = std::make_shared<RunPopulation>(spec.recent_runs);
    std::vector<CrossRunZScoreCondition> runs;
    for (std::size_t r = 0; r < spec.recent_runs; ++r)
        runs.emplace_back(spec, population, "run-" + std::to_string(r));
    const std::vector<double>& v = values();
    std::size_t i = 0;
    std::size_t r = 0;
    bool any = false;
    for (auto _ : state) {
        any |= runs[r].push(v[i]);
        i = (i + 1) & (v.size() - 1);
        r = r + 1 == runs.size() ? 0 : r + 1;
    }
    benchmark::DoNotOptimize(any);
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ConditionZScoreAcrossRuns)->Arg(30)->Arg(1000);

BENCHMARK(BM_ConditionThresholdAvg)->Arg(5)->Arg(60);
BENCHMARK(BM_ConditionThresholdMin)->Arg(5)->Arg(60);
BENCHMARK(BM_ConditionThresholdMax)->Arg(5)->Arg(60);
BENCHMARK(BM_ConditionChange)->Arg(5)->Arg(60);
BENCHMARK(BM_ConditionZScore)->Arg(5)->Arg(60);

Automation threshold_automation(std::string project, std::size_t window) {
    return {
        .name = "loss-above-2",
        .scope = Scope::for_project("acme", std::move(project)),
        .trigger = trigger::MetricThreshold{.metric = "loss", .window = window, .threshold = 2}};
}

/// One log call of run-1 in `project` with `points` values of loss.
Event metrics_event(std::string project, std::size_t points) {
    RunMetricsLogged body{.run = {.id = "run-1", .name = "resnet", .user = "alice"}, .step = 1};
    for (std::size_t i = 0; i < points; ++i)
        body.metrics.push_back({.name = "loss", .value = values()[i]});
    return {.id = "event-1",
            .time = Timestamp{std::chrono::seconds{1}},
            .author = "alice",
            .entity = "acme",
            .project = std::move(project),
            .body = std::move(body)};
}

// Args: window, points per event.
void BM_Evaluator(benchmark::State& state) {
    const std::size_t points = static_cast<std::size_t>(state.range(1));
    auto store = make_memory_trigger_state_store();
    TriggerEvaluator evaluator{*store};
    Automation a = threshold_automation("mnist", window_of(state));
    a.id = "automation-1";
    const auto automation = std::make_shared<const Automation>(std::move(a));
    const TriggerEvaluator::Candidate candidates[] = {&automation};
    const Event event = metrics_event("mnist", points);
    std::vector<RunVerdict> fired;
    std::vector<TriggerStateChange> changes;
    const ManualClock clock{Timestamp{std::chrono::hours{1}}};
    for (auto _ : state) {
        LazyNow now{clock};
        evaluator.evaluate(event, candidates, now, fired, changes);
        store->apply(changes);  // what the engine records with the firings
        changes.clear();
    }
    benchmark::DoNotOptimize(fired);
    state.SetItemsProcessed(state.iterations() * state.range(1));
}
BENCHMARK(BM_Evaluator)->Args({5, 1})->Args({60, 1})->Args({5, 16})->Args({60, 16});

// Args: hysteresis (0: plain, 1: pending 3 + recovery 0.4), points per event.
void BM_EvaluatorStates(benchmark::State& state) {
    const std::size_t points = static_cast<std::size_t>(state.range(1));
    auto store = make_memory_trigger_state_store();
    TriggerEvaluator evaluator{*store};
    trigger::MetricThreshold spec{.metric = "loss", .window = 5, .threshold = 0.5};
    if (state.range(0) == 1)
        spec.hysteresis = {.pending_evaluations = 3, .recovery = 0.4};
    Automation a = threshold_automation("mnist", 5);
    a.id = "automation-1";
    a.trigger = spec;
    const auto automation = std::make_shared<const Automation>(std::move(a));
    const TriggerEvaluator::Candidate candidates[] = {&automation};
    // Events over successive stretches of the values, so the window moves across 0.5.
    std::vector<Event> events;
    for (std::size_t e = 0; e < 256; ++e) {
        Event event = metrics_event("mnist", 0);
        auto& body = std::get<RunMetricsLogged>(event.body);
        for (std::size_t i = 0; i < points; ++i)
            body.metrics.push_back({.name = "loss", .value = values()[(e * points + i) % 4096]});
        events.push_back(std::move(event));
    }
    std::vector<RunVerdict> fired;
    std::vector<TriggerStateChange> changes;
    const ManualClock clock{Timestamp{std::chrono::hours{1}}};
    std::size_t e = 0;
    for (auto _ : state) {
        LazyNow now{clock};
        evaluator.evaluate(events[e], candidates, now, fired, changes);
        store->apply(changes);
        changes.clear();
        e = (e + 1) & 255;
    }
    benchmark::DoNotOptimize(fired);
    state.SetItemsProcessed(state.iterations() * state.range(1));
}
BENCHMARK(BM_EvaluatorStates)->Args({0, 1})->Args({1, 1})->Args({0, 16})->Args({1, 16});

// Args: window, points per event.
void BM_PublishMetrics(benchmark::State& state) {
    Engine engine;
    const Principal admin{.user = "admin", .roles = {Role::entity_admin("acme")}};
    engine.automations().create(admin, threshold_automation("mnist", window_of(state)));
    const Event event = metrics_event("mnist", static_cast<std::size_t>(state.range(1)));
    std::size_t fired = 0;
    for (auto _ : state)
        fired += engine.publish(event).firings.size();
    benchmark::DoNotOptimize(fired);
    state.SetItemsProcessed(state.iterations() * state.range(1));
}
BENCHMARK(BM_PublishMetrics)->Args({5, 1})->Args({60, 1})->Args({5, 16})->Args({60, 16});

/// `n` metric automations, each on one of 1,000 projects other than "quiet".
std::vector<Automation> other_projects_automations(std::size_t n) {
    std::vector<Automation> out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        Automation a = threshold_automation("project-" + std::to_string(i % 1000), 5);
        a.name = "rule-" + std::to_string(i);
        out.push_back(std::move(a));
    }
    return out;
}

// Arg: automations in other projects.
void BM_PublishUnwatchedProject(benchmark::State& state) {
    Engine engine;
    const Principal admin{.user = "admin", .roles = {Role::entity_admin("acme")}};
    engine.automations().create_all(admin, other_projects_automations(window_of(state)));
    const Event event = metrics_event("quiet", 1);
    std::size_t fired = 0;
    for (auto _ : state)
        fired += engine.publish(event).firings.size();
    benchmark::DoNotOptimize(fired);
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PublishUnwatchedProject)->Arg(0)->Arg(100'000);

// Arg: automations in other projects.
void BM_IndexLookup(benchmark::State& state) {
    AutomationIndex index;
    std::size_t id = 0;
    for (Automation& a : other_projects_automations(window_of(state))) {
        a.id = std::to_string(id++);
        index.insert(std::make_shared<const Automation>(std::move(a)));
    }
    const Event event = metrics_event("quiet", 1);
    std::size_t candidates = 0;
    for (auto _ : state)
        index.for_each_candidate(event, [&](const auto&) { ++candidates; });
    benchmark::DoNotOptimize(candidates);
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_IndexLookup)->Arg(0)->Arg(100'000);

// What the BM_Publish* loops pay before publish starts: `publish` takes its event by value.
void BM_CopyEvent(benchmark::State& state) {
    const Event event = metrics_event("quiet", 1);
    for (auto _ : state) {
        Event copy = event;
        benchmark::DoNotOptimize(copy);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CopyEvent);

}  // namespace

BENCHMARK_MAIN();
