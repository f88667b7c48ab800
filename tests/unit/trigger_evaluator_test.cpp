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

/// Feeds events to an evaluator; every automation added is a candidate for every run event of
/// the kind it listens to (scope and filters are the index's and match.cpp's business).
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
        evaluator->evaluate(event, candidates, time, fired);
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
    std::optional<RunTriggerState> load(const TriggerStateKey& key) const override {
        if (std::exchange(fail_next_load_, false))
            throw Error(errc::storage_failure, "trigger_state", "disk on fire");
        return inner_->load(key);
    }
    void erase_run(const TriggerStateKey& key) override { inner_->erase_run(key); }
    void erase_automation(std::string_view id) override { inner_->erase_automation(id); }

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
