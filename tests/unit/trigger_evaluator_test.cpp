// TriggerEvaluator (src/evaluate/trigger_evaluator.hpp) without the engine: cooldowns at their
// exact boundary, per-run state, ignored values, step order, several metrics per call,
// persistence through the TriggerStateStore, resets and the release of ended runs.
#include "evaluate/trigger_evaluator.hpp"
#include "storage/memory_trigger_state_store.hpp"
#include "support/naive_metric_conditions.hpp"

#include <herald/error.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <utility>

using namespace herald;
using namespace herald::detail;
using namespace herald::test;
using namespace std::chrono_literals;

namespace {

const Run run_a{.id = "run-a", .name = "a", .user = "alice"};
const Run run_b{.id = "run-b", .name = "b", .user = "alice"};

/// Feeds events to an evaluator and applies what they changed to its store; every automation
/// added is a candidate for every run event of the kind it listens to (scope and filters are
/// the index's and match.cpp's business).
struct Harness {
    std::unique_ptr<TriggerStateStore> store = make_memory_trigger_state_store();
    std::unique_ptr<TriggerEvaluator> evaluator = std::make_unique<TriggerEvaluator>(*store);
    std::vector<std::shared_ptr<const Automation>> automations;
    Timestamp now{std::chrono::hours{1000}};

    std::shared_ptr<const Automation> add(Trigger trigger, std::string id = "") {
        if (id.empty())
            id = "auto-" + std::to_string(automations.size());
        return automations.emplace_back(std::make_shared<const Automation>(
            Automation{.id = std::move(id), .name = "n", .trigger = std::move(trigger)}));
    }

    std::vector<RunVerdict> publish(const Event& event) {
        std::vector<TriggerEvaluator::Candidate> candidates;
        for (const auto& a : automations)
            if (listens_to(a->trigger.kind()) == event.kind())
                candidates.push_back(&a);
        const ManualClock clock{now};
        LazyNow time{clock};
        std::vector<RunVerdict> fired;
        std::vector<TriggerStateChange> changes;
        evaluator->evaluate(event, candidates, time, fired, changes);
        store->apply(changes);  // as the engine records them with the firings
        return fired;
    }
    std::vector<RunVerdict> log(const Run& run, std::int64_t step,
                                std::vector<MetricPoint> points) {
        return publish({.entity = "acme",
                        .project = "mnist",
                        .body = RunMetricsLogged{.run = run, .step = step, .metrics = points}});
    }
    std::vector<RunVerdict> log(const Run& run, std::int64_t step, double loss) {
        return log(run, step, {{.name = "loss", .value = loss}});
    }
    std::vector<RunVerdict> state(const Run& run, RunState s) {
        return publish({.entity = "acme",
                        .project = "mnist",
                        .body = RunStateChanged{.run = run, .state = s}});
    }
    /// A fresh evaluator on the same store, as after a restart.
    void restart() { evaluator = std::make_unique<TriggerEvaluator>(*store); }
};

trigger::MetricThreshold loss_below(double threshold, std::size_t window = 1,
                                    std::chrono::seconds cooldown = default_cooldown) {
    return {.metric = "loss",
            .window = window,
            .comparison = Comparison::less,
            .threshold = threshold,
            .cooldown = cooldown};
}

}  // namespace

TEST_CASE("cooldown: fires again exactly 24 h later, not a nanosecond before", "[metrics]") {
    Harness h;
    h.add(loss_below(1));
    REQUIRE(h.log(run_a, 1, 0.5).size() == 1);
    const Timestamp fired_at = h.now;
    h.now = fired_at + 24h - 1ns;
    CHECK(h.log(run_a, 2, 0.5).empty());
    h.now = fired_at + 24h;
    CHECK(h.log(run_a, 3, 0.5).size() == 1);
    h.now += 1s;
    CHECK(h.log(run_a, 4, 0.5).empty());
}

TEST_CASE("cooldown: configurable per automation, 0 fires on every event", "[metrics]") {
    Harness h;
    h.add(loss_below(1, 1, 1h));
    h.add(loss_below(1, 1, 0s));
    CHECK(h.log(run_a, 1, 0.5).size() == 2);
    CHECK(h.log(run_a, 2, 0.5).size() == 1);
    h.now += 1h;
    CHECK(h.log(run_a, 3, 0.5).size() == 2);
    // At most once per event, even when several of its points meet the condition.
    CHECK(h.log(run_a, 4, {{"loss", 0.1}, {"loss", 0.2}}).size() == 1);
}

TEST_CASE("cooldown: a condition met during the cooldown does not fire later by itself",
          "[metrics]") {
    Harness h;
    h.add(loss_below(1));
    REQUIRE(h.log(run_a, 1, 0.5).size() == 1);
    h.now += 25h;
    CHECK(h.log(run_a, 2, 2).empty());  // condition no longer met
    CHECK(h.log(run_a, 3, 0.5).size() == 1);
}

TEST_CASE("each run has its own window and cooldown", "[metrics]") {
    Harness h;
    h.add(loss_below(1, 2));
    CHECK(h.log(run_a, 1, 0.5).size() == 1);
    CHECK(h.log(run_b, 1, 3).empty());    // run b's window: {3}
    CHECK(h.log(run_b, 2, 0.5).empty());  // {3, 0.5}: avg 1.75
    CHECK(h.log(run_b, 3, 0.5).size() == 1);
    CHECK(h.log(run_a, 2, 0.5).empty());  // run a is cooling down
}

TEST_CASE("NaN and infinities are ignored", "[metrics]") {
    Harness h;
    h.add(loss_below(1, 2, 0s));
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();
    CHECK(h.log(run_a, 1, 3).empty());
    CHECK(h.log(run_a, 2, nan).empty());  // not a value: nothing evaluated
    CHECK(h.log(run_a, 3, -inf).empty());
    CHECK(h.log(run_a, 4, inf).empty());
    const auto fired = h.log(run_a, 5, -2);  // window {3, -2}: NaN and infinities never entered
    REQUIRE(fired.size() == 1);
    CHECK(fired[0].metric->metric_values == std::vector<double>{3, -2});
}

TEST_CASE("a value logged at an earlier step than the latest is ignored", "[metrics]") {
    Harness h;
    h.add(loss_below(1, 2, 0s));
    CHECK(h.log(run_a, 10, 3).empty());
    CHECK(h.log(run_a, 4, -100).empty());  // out of step order: ignored
    CHECK(h.log(run_a, 10, 2).empty());    // the same step again is taken: {3, 2}
    const auto fired = h.log(run_a, 11, -1);
    REQUIRE(fired.size() == 1);
    CHECK(fired[0].metric->metric_values == std::vector<double>{2, -1});
}

TEST_CASE("one log call: many metrics, and several points of one metric in order", "[metrics]") {
    Harness h;
    const auto loss = h.add(loss_below(1, 3, 0s));
    const auto acc = h.add(trigger::MetricThreshold{.metric = "acc",
                                                    .window = 2,
                                                    .aggregate = Aggregate::max,
                                                    .comparison = Comparison::greater,
                                                    .threshold = 0.9,
                                                    .cooldown = 0s});
    const auto fired = h.log(run_a, 1, {{"acc", 0.95}, {"loss", 3}, {"acc", 0.5}, {"loss", 0}});
    REQUIRE(fired.size() == 1);
    CHECK(*fired[0].automation == acc);
    CHECK(fired[0].metric->metric_values == std::vector<double>{0.95});  // fired at its 1st point
    const auto next = h.log(run_a, 2, {{"acc", 0.1}, {"loss", -3}, {"cpu", 99}});
    REQUIRE(next.size() == 1);
    CHECK(*next[0].automation == loss);
    CHECK(next[0].metric->metric_values == std::vector<double>{3, 0, -3});
    CHECK(next[0].metric->metric_condition == "avg(loss) over last 3 = 0 < 1");
}

TEST_CASE("RUN_STATE: only the cooldown applies", "[metrics]") {
    Harness h;
    h.add(trigger::RunStateChange{.states = {RunState::running, RunState::finished}});
    const auto fired = h.state(run_a, RunState::running);
    REQUIRE(fired.size() == 1);
    CHECK_FALSE(fired[0].metric);
    CHECK(h.state(run_a, RunState::finished).empty());  // same run within 24 h
    CHECK(h.state(run_b, RunState::finished).size() == 1);
}

TEST_CASE("window state and cooldowns survive a restart through the store", "[metrics]") {
    Harness h;
    h.add(loss_below(1, 3, 1h), "thr");
    h.add(trigger::MetricZScore{.metric = "loss", .window = 4, .threshold = 3}, "z");
    CHECK(h.log(run_a, 1, 5).empty());
    CHECK(h.log(run_a, 2, -4).size() == 1);  // avg(5, -4) = 0.5 < 1
    h.restart();
    CHECK(h.log(run_a, 3, 0.5).empty());  // still cooling down after the restart
    h.now += 1h;
    const auto fired = h.log(run_a, 4, 1.5);
    REQUIRE(fired.size() == 1);
    CHECK(fired[0].metric->metric_values == std::vector<double>{-4, 0.5, 1.5});
    // The z-score window came back too: {5, -4, 0.5, 1.5} has mean 0.75, stddev 3.7.
    h.restart();
    CHECK(h.log(run_a, 3, 100).empty());  // out of step order after the restart too
    const auto outlier = h.log(run_a, 5, 20);
    REQUIRE(outlier.size() == 1);
    CHECK((*outlier[0].automation)->id == "z");
}

TEST_CASE("the store receives small increments and keeps only the window", "[metrics]") {
    Harness h;
    h.add(loss_below(-100, 3), "thr");
    for (int step = 0; step < 20; ++step)
        h.log(run_a, step, step);
    const auto saved = h.store->load({.automation_id = "thr", .run_id = "run-a"});
    REQUIRE(saved);
    CHECK(saved->values == std::vector<double>{17, 18, 19});
    CHECK(saved->last_step == 19);
    CHECK_FALSE(saved->last_fired);
}

TEST_CASE("forgetting an automation drops its state in memory and in the store", "[metrics]") {
    Harness h;
    h.add(loss_below(1, 2), "thr");
    REQUIRE(h.log(run_a, 1, 0).size() == 1);
    h.log(run_b, 1, 5);
    CHECK(h.evaluator->tracked_runs() == 2);
    h.evaluator->forget_automation("thr");
    CHECK(h.evaluator->tracked_runs() == 0);
    CHECK_FALSE(h.store->load({.automation_id = "thr", .run_id = "run-a"}));
    // It starts again: no cooldown, an empty window.
    CHECK(h.log(run_b, 2, 0.5).size() == 1);
}

TEST_CASE("a finished run is released once its cooldowns have passed", "[metrics]") {
    Harness h;
    h.add(loss_below(1, 5, 2h), "thr");
    REQUIRE(h.log(run_a, 1, 0).size() == 1);
    const Timestamp fired_at = h.now;
    h.now += 30min;
    h.state(run_a, RunState::finished);  // no RUN_STATE automation: still noticed
    h.now = fired_at + 30min + 2h - 1ns;
    h.log(run_b, 1, 5);  // any evaluation sweeps due releases
    CHECK(h.evaluator->tracked_runs() == 2);
    h.now = fired_at + 30min + 2h;
    h.log(run_b, 2, 5);
    CHECK(h.evaluator->tracked_runs() == 1);
    CHECK_FALSE(h.store->load({.automation_id = "thr", .run_id = "run-a"}));
    CHECK(h.store->load({.automation_id = "thr", .run_id = "run-b"}));
}

TEST_CASE("a run that runs again before its release is kept", "[metrics]") {
    Harness h;
    h.add(loss_below(1, 5, 1h), "thr");
    h.log(run_a, 1, 5);
    h.state(run_a, RunState::crashed);
    h.now += 30min;
    h.state(run_a, RunState::running);  // resumed
    h.now += 2h;
    h.log(run_b, 1, 5);
    CHECK(h.evaluator->tracked_runs() == 2);
    CHECK(h.log(run_a, 2, -20).size() == 1);  // window {5, -20} kept: avg -7.5
    h.state(run_a, RunState::killed);
    h.now += 1h;
    h.log(run_b, 2, 5);
    CHECK(h.evaluator->tracked_runs() == 1);
}

TEST_CASE(
    "property: the evaluator agrees with a naive recomputation through NaN, infinities, "
    "step order and several values per call",
    "[metrics]") {
    std::mt19937_64 rng(3);
    std::uniform_int_distribution<int> small(-3, 3);
    std::uniform_int_distribution<int> pick(0, 9);
    std::uniform_int_distribution<std::size_t> window(1, 8);
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();
    std::size_t compared = 0;
    for (int stream = 0; stream < 60; ++stream) {
        Harness h;
        const trigger::MetricThreshold ts{.metric = "loss",
                                          .window = window(rng),
                                          .aggregate = static_cast<Aggregate>(pick(rng) % 3),
                                          .comparison = static_cast<Comparison>(pick(rng) % 6),
                                          .threshold = double(small(rng)),
                                          .cooldown = 0s};
        const trigger::MetricChange cs{.metric = "loss",
                                       .current_window = window(rng),
                                       .prior_window = window(rng),
                                       .mode = static_cast<ChangeMode>(pick(rng) % 2),
                                       .direction = static_cast<ChangeDirection>(pick(rng) % 3),
                                       .amount = 0.5,
                                       .cooldown = 0s};
        const trigger::MetricZScore zs{.metric = "loss",
                                       .window = window(rng) + 1,
                                       .direction = static_cast<ZScoreDirection>(pick(rng) % 3),
                                       .threshold = 1.5,
                                       .cooldown = 0s};
        h.add(ts, "threshold");
        h.add(cs, "change");
        h.add(zs, "zscore");
        std::vector<double> history;  // the values the naive model accepts
        std::optional<std::int64_t> last_step;
        std::int64_t step = 0;
        for (int event = 0; event < 150; ++event) {
            step += pick(rng) - 2;  // sometimes back in time
            std::vector<MetricPoint> points;
            for (int n = pick(rng) % 3 + 1; n > 0; --n) {
                const int kind = pick(rng);
                points.push_back({.name = kind == 0 ? "acc" : "loss",
                                  .value = kind == 1   ? nan
                                           : kind == 2 ? -inf
                                                       : double(small(rng))});
            }
            // The naive model: which automations hold at some accepted value, the first time.
            struct Expected {
                bool fires = false;
                bool sure = true;  ///< no value of this event was near its boundary
                std::vector<double> values;
            };
            std::map<std::string, Expected> expected;
            const auto note = [&](const std::string& id, const Naive& n, double bound,
                                  std::vector<double> window_values) {
                Expected& e = expected[id];
                if (n.defined && !clear_of(n.measure, bound))
                    e.sure = false;
                if (n.holds && !e.fires)
                    e = {true, e.sure, std::move(window_values)};
            };
            if (!last_step || step >= *last_step) {
                bool accepted = false;
                for (const MetricPoint& p : points) {
                    if (p.name != "loss" || !std::isfinite(p.value))
                        continue;
                    accepted = true;
                    history.push_back(p.value);
                    note("threshold", naive_threshold(ts, history), ts.threshold,
                         last(history, ts.window));
                    note("change", naive_change(cs, history), cs.amount,
                         last(history, cs.current_window + cs.prior_window));
                    note("zscore", naive_zscore(zs, history), zs.threshold,
                         last(history, zs.window + 1));
                }
                if (accepted)
                    last_step = step;
            }
            std::map<std::string, std::vector<double>> fired;
            for (const RunVerdict& v : h.log(run_a, step, points))
                fired[(*v.automation)->id] = v.metric->metric_values;
            for (const auto& [id, e] : expected) {
                if (!e.sure)
                    continue;
                ++compared;
                INFO("stream " << stream << " event " << event << " automation " << id);
                REQUIRE(fired.contains(id) == e.fires);
                if (e.fires)
                    REQUIRE(fired[id] == e.values);
            }
        }
    }
    CHECK(compared > 10000);
}

namespace {

/// Delegates to another store, but its next `load` fails, as a broken disk would.
class FailingLoadStore final : public TriggerStateStore {
  public:
    explicit FailingLoadStore(std::unique_ptr<TriggerStateStore> inner)
        : inner_(std::move(inner)) {}

    void append_values(const TriggerStateKey& key, std::span<const double> values,
                       std::int64_t step, std::size_t keep) override {
        inner_->append_values(key, values, step, keep);
    }
    void record_firing(const TriggerStateKey& key, Timestamp time) override {
        inner_->record_firing(key, time);
    }
    void save_condition(const TriggerStateKey& key, const ConditionProgress& progress) override {
        inner_->save_condition(key, progress);
    }
    std::optional<RunTriggerState> load(const TriggerStateKey& key) const override {
        if (std::exchange(fail_next_load_, false))
            throw Error(errc::storage_failure, "trigger_state", "disk on fire");
        return inner_->load(key);
    }
    void erase_run(const TriggerStateKey& key) override { inner_->erase_run(key); }
    void erase_automation(std::string_view id) override { inner_->erase_automation(id); }
    void restart_windows(std::string_view id) override { inner_->restart_windows(id); }
    void put_population_value(std::string_view id, std::string_view run, double value,
                              std::size_t keep) override {
        inner_->put_population_value(id, run, value, keep);
    }
    std::vector<PopulationValue> load_population(std::string_view id) const override {
        return inner_->load_population(id);
    }

  private:
    std::unique_ptr<TriggerStateStore> inner_;
    mutable bool fail_next_load_ = true;
};

}  // namespace

TEST_CASE("a store that fails to load leaves the run to be loaded again", "[metrics]") {
    Harness h;
    h.add(loss_below(1, 3), "thr");
    h.log(run_a, 1, 5);
    h.log(run_a, 2, -4);  // avg 0.5: fires, so the cooldown is stored too
    h.now += 25h;
    h.store = std::make_unique<FailingLoadStore>(std::move(h.store));
    h.restart();
    CHECK_THROWS_AS(h.log(run_a, 3, 0.5), Error);
    const auto fired = h.log(run_a, 3, 0.5);  // loads {5, -4} now, then takes 0.5
    REQUIRE(fired.size() == 1);
    CHECK(fired[0].metric->metric_values == std::vector<double>{5, -4, 0.5});
}

// --- pending period and hysteresis -------------------------------------------------------------

namespace {

trigger::MetricThreshold loss_above(double threshold, Hysteresis hysteresis,
                                    std::chrono::seconds cooldown = 0s) {
    return {.metric = "loss",
            .window = 1,
            .comparison = Comparison::greater,
            .threshold = threshold,
            .cooldown = cooldown,
            .hysteresis = hysteresis};
}

ConditionState state_of(const Harness& h, std::string_view id) {
    const auto saved = h.store->load({.automation_id = id, .run_id = "run-a"});
    return saved ? saved->condition.state : ConditionState::normal;
}

}  // namespace

TEST_CASE("pending: the condition must hold for N consecutive evaluations", "[metrics]") {
    Harness h;
    h.add(loss_above(1, {.pending_evaluations = 3}), "p");
    CHECK(h.log(run_a, 1, 2).empty());
    CHECK(state_of(h, "p") == ConditionState::pending);
    CHECK(h.log(run_a, 2, 2).empty());
    CHECK(h.log(run_a, 3, 0).empty());  // the streak breaks
    CHECK(state_of(h, "p") == ConditionState::normal);
    CHECK(h.log(run_a, 4, 2).empty());
    CHECK(h.log(run_a, 5, 2).empty());
    const auto fired = h.log(run_a, 6, 2);
    REQUIRE(fired.size() == 1);
    CHECK_FALSE(fired[0].metric->resolved);
    CHECK(state_of(h, "p") == ConditionState::firing);
    // Several values of one event are several evaluations.
    Harness two;
    two.add(loss_above(1, {.pending_evaluations = 2}), "q");
    CHECK(two.log(run_a, 1, {{"loss", 2}, {"loss", 3}}).size() == 1);
}

TEST_CASE("pending: the condition must have held for a duration, checked at evaluations",
          "[metrics]") {
    Harness h;
    h.add(loss_above(1, {.pending_for = 10min}), "p");
    CHECK(h.log(run_a, 1, 2).empty());
    h.now += 10min - 1s;
    CHECK(h.log(run_a, 2, 2).empty());
    h.now += 1s;
    CHECK(h.log(run_a, 3, 2).size() == 1);
    // A value that does not hold starts the period again.
    Harness both;
    both.add(loss_above(1, {.pending_evaluations = 2, .pending_for = 10min}), "both");
    CHECK(both.log(run_a, 1, 2).empty());
    both.now += 20min;
    CHECK(both.log(run_a, 2, 0).empty());
    CHECK(both.log(run_a, 3, 2).empty());
    both.now += 10min;
    CHECK(both.log(run_a, 4, 2).size() == 1);  // two evaluations and ten minutes
}

TEST_CASE("recovery: a value hovering at the threshold fires once until it recovers", "[metrics]") {
    Harness h;
    h.add(loss_above(1, {.recovery = 0.5}), "hyst");
    h.add(loss_above(1, {}), "plain");
    const auto ids = [](const std::vector<RunVerdict>& v) {
        std::vector<std::string> out;
        for (const RunVerdict& r : v)
            out.push_back((*r.automation)->id);
        return out;
    };
    CHECK(ids(h.log(run_a, 1, 1.1)) == std::vector<std::string>{"hyst", "plain"});
    CHECK(ids(h.log(run_a, 2, 0.9)).empty());
    CHECK(state_of(h, "hyst") == ConditionState::recovering);
    CHECK(ids(h.log(run_a, 3, 1.1)) == std::vector<std::string>{"plain"});
    CHECK(state_of(h, "hyst") == ConditionState::firing);
    CHECK(ids(h.log(run_a, 4, 1.2)) == std::vector<std::string>{"plain"});  // held: no repeat
    CHECK(ids(h.log(run_a, 5, 0.5)).empty());                               // crossed back
    CHECK(state_of(h, "hyst") == ConditionState::normal);
    CHECK(ids(h.log(run_a, 6, 1.1)) == std::vector<std::string>{"hyst", "plain"});
}

TEST_CASE("recovery: the bound follows the comparison, for change and z-score too", "[metrics]") {
    Harness h;
    h.add(trigger::MetricThreshold{.metric = "loss",
                                   .window = 1,
                                   .comparison = Comparison::less_equal,
                                   .threshold = 0.25,
                                   .cooldown = 0s,
                                   .hysteresis = {.recovery = 0.3}},
          "below");
    CHECK(h.log(run_a, 1, 0.25).size() == 1);
    CHECK(h.log(run_a, 2, 0.29).empty());
    CHECK(h.log(run_a, 3, 0.2).empty());
    CHECK(h.log(run_a, 4, 0.31).empty());  // recovered: > 0.3 no longer <= 0.3
    CHECK(h.log(run_a, 5, 0.2).size() == 1);

    Harness c;
    c.add(trigger::MetricChange{.metric = "loss",
                                .current_window = 1,
                                .prior_window = 1,
                                .mode = ChangeMode::absolute,
                                .direction = ChangeDirection::increase,
                                .amount = 10,
                                .cooldown = 0s,
                                .hysteresis = {.recovery = 2}},
          "jump");
    CHECK(c.log(run_a, 1, 0).empty());
    CHECK(c.log(run_a, 2, 10).size() == 1);  // +10
    CHECK(c.log(run_a, 3, 13).empty());      // +3: still recovering
    CHECK(c.log(run_a, 4, 23).empty());      // +10 again, same episode
    CHECK(c.log(run_a, 5, 24).empty());      // +1: recovered
    CHECK(c.log(run_a, 6, 34).size() == 1);
}

TEST_CASE("resolved: a firing when an episode that fired returns to normal", "[metrics]") {
    Harness h;
    h.add(loss_above(1, {.recovery = 0.5, .notify_resolved = true}, 1h), "r");
    REQUIRE(h.log(run_a, 1, 2).size() == 1);
    CHECK(h.log(run_a, 2, 0.8).empty());  // recovering
    const auto resolved = h.log(run_a, 3, 0.4);
    REQUIRE(resolved.size() == 1);
    CHECK(resolved[0].metric->resolved);
    CHECK(resolved[0].metric->metric_condition ==
          "resolved: avg(loss) over last 1 = 0.4, no longer > 0.5");
    // Inside the cooldown the next activation enters firing without firing; that episode never
    // fired, so it resolves silently.
    CHECK(h.log(run_a, 4, 2).empty());
    CHECK(state_of(h, "r") == ConditionState::firing);
    CHECK(h.log(run_a, 5, 0).empty());
    CHECK(state_of(h, "r") == ConditionState::normal);
    // The resolved firing did not start a cooldown: the first firing's hour still counts.
    h.now += 1h;
    CHECK(h.log(run_a, 6, 2).size() == 1);
}

TEST_CASE("cooldown without recovery: an activation in the cooldown fires once it has passed",
          "[metrics]") {
    Harness h;
    h.add(loss_above(1, {.pending_evaluations = 2, .notify_resolved = true}, 1h), "c");
    CHECK(h.log(run_a, 1, 2).empty());
    CHECK(h.log(run_a, 2, 2).size() == 1);
    CHECK(h.log(run_a, 3, 0).size() == 1);  // resolved
    CHECK(h.log(run_a, 4, 2).empty());      // pending again
    CHECK(h.log(run_a, 5, 2).empty());      // activated inside the cooldown
    h.now += 1h;
    const auto repeat = h.log(run_a, 6, 2);  // still firing, the cooldown has passed
    REQUIRE(repeat.size() == 1);
    CHECK_FALSE(repeat[0].metric->resolved);
}

TEST_CASE("pending and recovering states survive a restart through the store", "[metrics]") {
    Harness h;
    h.add(loss_above(1, {.pending_evaluations = 3, .recovery = 0.5}), "s");
    h.log(run_a, 1, 2);
    h.log(run_a, 2, 2);
    auto saved = h.store->load({.automation_id = "s", .run_id = "run-a"});
    REQUIRE(saved);
    CHECK(saved->condition ==
          ConditionProgress{.state = ConditionState::pending, .streak = 2, .holding_since = h.now});
    h.restart();
    REQUIRE(h.log(run_a, 3, 2).size() == 1);
    CHECK(h.log(run_a, 4, 0.8).empty());
    h.restart();
    CHECK(h.log(run_a, 5, 2).empty());  // back to firing from recovering: no new firing
    CHECK(state_of(h, "s") == ConditionState::firing);
}

namespace {

/// The documented rules, replayed from the first value on every event over conditions
/// recomputed from the whole history (tests/support/naive_metric_conditions.hpp).
struct NaiveEpisodes {
    struct Evaluation {
        Timestamp time;
        std::size_t event;
        double value;
    };
    struct Outcome {
        ConditionState state = ConditionState::normal;
        bool fires = false;
        bool resolved = false;
    };

    Outcome replay(const trigger::MetricThreshold& spec, const std::vector<Evaluation>& all,
                   std::size_t event) const {
        const Hysteresis& h = spec.hysteresis;
        ConditionState state = ConditionState::normal;
        std::size_t streak = 0;
        Timestamp since{};
        bool episode_fired = false;
        std::optional<Timestamp> last_fired;
        std::optional<std::size_t> emitted_in;  // the event of the latest firing
        Outcome out;
        std::vector<double> history;
        for (const Evaluation& e : all) {
            history.push_back(e.value);
            const double measure = naive_threshold(spec, history).measure;
            const bool holds = compare(measure, spec.comparison, spec.threshold);
            const bool crossed_back =
                !compare(measure, spec.comparison, h.recovery.value_or(spec.threshold));
            const bool first_of_event = emitted_in != e.event;
            const auto cooled = [&] {
                return !last_fired || e.time - *last_fired >= spec.cooldown;
            };
            bool fires = false;
            bool resolves = false;
            if (holds && (state == ConditionState::normal || state == ConditionState::pending)) {
                if (state == ConditionState::normal) {
                    streak = 0;
                    since = e.time;
                }
                streak = std::min(streak + 1, h.pending_evaluations);
                const bool due = streak >= h.pending_evaluations && e.time - since >= h.pending_for;
                state = due ? ConditionState::firing : ConditionState::pending;
                fires = due && first_of_event && cooled();
            } else if (holds) {
                state = ConditionState::firing;
                fires = !h.recovery && first_of_event && cooled();
            } else if (state == ConditionState::pending) {
                state = ConditionState::normal;
            } else if (state != ConditionState::normal) {
                if (!crossed_back) {
                    state = ConditionState::recovering;
                } else {
                    resolves = episode_fired && h.notify_resolved && first_of_event;
                    state = ConditionState::normal;
                    episode_fired = false;
                }
            }
            if (fires) {
                last_fired = e.time;
                episode_fired = true;
            }
            if (fires || resolves)
                emitted_in = e.event;
            if (e.event == event && !out.fires && !out.resolved) {
                out.fires = fires;
                out.resolved = resolves;
            }
        }
        out.state = state;
        return out;
    }
};

}  // namespace

TEST_CASE("property: pending, firing and recovering agree with a naive replay, across restarts",
          "[metrics]") {
    std::mt19937_64 rng(11);
    std::uniform_int_distribution<int> small(-3, 3);
    std::uniform_int_distribution<int> pick(0, 9);
    std::size_t compared = 0;
    std::size_t by_state[4] = {};
    for (int stream = 0; stream < 80; ++stream) {
        Harness h;
        trigger::MetricThreshold spec{
            .metric = "loss",
            .window = static_cast<std::size_t>(pick(rng) % 3 + 1),
            .aggregate = static_cast<Aggregate>(pick(rng) % 3),
            .comparison = static_cast<Comparison>(pick(rng) % 4),
            .threshold = double(small(rng)),
            .cooldown = std::chrono::minutes{pick(rng) % 4 * 10},
            .hysteresis = {.pending_evaluations = static_cast<std::size_t>(pick(rng) % 3 + 1),
                           .pending_for = std::chrono::minutes{pick(rng) % 3 * 5},
                           .notify_resolved = pick(rng) % 2 == 0}};
        if (pick(rng) % 3 != 0) {  // a recovery bound one or two away, on the far side
            const bool above = spec.comparison == Comparison::greater ||
                               spec.comparison == Comparison::greater_equal;
            const double gap = pick(rng) % 2 + 1;
            spec.hysteresis.recovery = spec.threshold + (above ? -gap : gap);
        }
        h.add(spec, "p");
        std::vector<NaiveEpisodes::Evaluation> all;
        for (std::size_t event = 0; event < 120; ++event) {
            h.now += std::chrono::minutes{pick(rng)};
            std::vector<MetricPoint> points;
            for (int n = pick(rng) % 2 + 1; n > 0; --n) {
                points.push_back({.name = "loss", .value = double(small(rng))});
                all.push_back({h.now, event, points.back().value});
            }
            if (pick(rng) == 0)
                h.restart();
            const auto fired = h.log(run_a, static_cast<std::int64_t>(event), points);
            const NaiveEpisodes::Outcome expected = NaiveEpisodes{}.replay(spec, all, event);
            INFO("stream " << stream << " event " << event);
            REQUIRE(fired.size() == (expected.fires || expected.resolved ? 1u : 0u));
            if (!fired.empty())
                REQUIRE(fired[0].metric->resolved == expected.resolved);
            REQUIRE(state_of(h, "p") == expected.state);
            ++by_state[static_cast<std::size_t>(expected.state)];
            ++compared;
        }
    }
    CHECK(compared == 80 * 120);
    for (std::size_t n : by_state)
        CHECK(n > 100);  // every state was reached many times
}

TEST_CASE("what an edit restarts: the condition, the scope, a disable", "[metrics]") {
    const Automation base{.id = "a",
                          .name = "n",
                          .scope = Scope::for_project("acme", "mnist"),
                          .trigger = loss_below(1, 3)};
    const auto with = [&](auto change) {
        Automation a = base;
        change(a);
        return a;
    };
    CHECK_FALSE(restarts_windows(base, with([](Automation& a) { a.name = "other"; })));
    CHECK_FALSE(restarts_windows(base, with([](Automation& a) { a.description = "d"; })));
    CHECK_FALSE(restarts_windows(
        base, with([](Automation& a) { a.action = action::Webhook{.integration = "x"}; })));
    CHECK_FALSE(
        restarts_windows(base, with([](Automation& a) { a.trigger = loss_below(1, 3, 1h); })));
    CHECK_FALSE(restarts_windows(base, with([](Automation& a) {
                                     auto t = loss_below(1, 3);
                                     t.runs.user = "bob";
                                     a.trigger = t;
                                 })));
    const Automation disabled = with([](Automation& a) { a.enabled = false; });
    CHECK(restarts_windows(base, disabled));
    CHECK_FALSE(restarts_windows(disabled, base));
    CHECK(restarts_windows(base, with([](Automation& a) { a.trigger = loss_below(2, 3); })));
    CHECK(restarts_windows(base, with([](Automation& a) { a.trigger = loss_below(1, 4); })));
    CHECK(restarts_windows(base, with([](Automation& a) {
                               auto t = loss_below(1, 3);
                               t.hysteresis.pending_evaluations = 2;
                               a.trigger = t;
                           })));
    CHECK(restarts_windows(
        base, with([](Automation& a) { a.scope = Scope::for_project("acme", "other"); })));
}

TEST_CASE("replacing an automation carries its runs' state over, in memory and in the store",
          "[metrics]") {
    Harness h;
    h.add(loss_above(1, {.pending_evaluations = 2}, 1h), "r");
    REQUIRE(h.log(run_a, 1, 2).empty());
    REQUIRE(h.log(run_a, 2, 2).size() == 1);
    h.log(run_b, 1, 2);  // run b is pending
    const auto replace = [&](Trigger trigger) {
        const std::shared_ptr<const Automation> before = h.automations[0];
        Automation next = *before;
        next.name = "renamed";
        next.trigger = std::move(trigger);
        h.automations[0] = std::make_shared<const Automation>(std::move(next));
        h.evaluator->replace_automation(*before, h.automations[0]);
    };
    replace(loss_above(1, {.pending_evaluations = 2}, 2h));  // only the cooldown changes
    CHECK(h.log(run_b, 2, 2).size() == 1);                   // run b's pending streak carried over
    CHECK(h.evaluator->tracked_runs() == 2);

    replace(loss_above(5, {.pending_evaluations = 2}, 2h));  // the condition changes
    const auto saved = h.store->load({.automation_id = "r", .run_id = "run-a"});
    REQUIRE(saved);
    CHECK(saved->values.empty());
    CHECK(saved->condition == ConditionProgress{});
    CHECK(saved->last_fired == h.now);  // the cooldown is kept
    h.now += 2h;
    CHECK(h.log(run_a, 3, 6).empty());  // a fresh pending period
    CHECK(h.log(run_a, 4, 6).size() == 1);
}

TEST_CASE(
    "z-score across runs: each run against the project's other recent runs, kept across "
    "restarts",
    "[metrics]") {
    Harness h;
    h.add(trigger::MetricZScore{.metric = "loss",
                                .mode = ZScoreMode::across_runs,
                                .recent_runs = 3,
                                .threshold = 3,
                                .cooldown = 0s},
          "x");
    const auto run = [](int i) {
        return Run{.id = "run-" + std::to_string(i), .name = "r", .user = "alice"};
    };
    CHECK(h.log(run(1), 1, 1.0).empty());
    CHECK(h.log(run(2), 1, 1.2).empty());
    CHECK(h.log(run(3), 1, 0.8).empty());    // z = -1: others 1.0, 1.2
    h.restart();                             // the population comes back from the store
    const auto fired = h.log(run(4), 1, 9);  // others 1.2, 0.8 (run 1 left: 3 kept)
    REQUIRE(fired.size() == 1);
    CHECK(fired[0].metric->metric_values == std::vector<double>{1.2, 0.8, 9});
    // A run's own earlier value is not among those it is compared with.
    const auto again = h.log(run(4), 2, 9.1);
    REQUIRE(again.size() == 1);
    CHECK(again[0].metric->metric_values == std::vector<double>{1.2, 0.8, 9.1});
    CHECK(h.store->load_population("x") ==
          std::vector<PopulationValue>{{"run-2", 1.2}, {"run-3", 0.8}, {"run-4", 9.1}});
}
