// Run triggers through Engine::publish: what firings carry, automations created, updated and
// deleted mid-run, state surviving an engine restart on the same storage, and many threads.
#include "support/event_builders.hpp"

#include <herald/engine.hpp>
#include <herald/error.hpp>
#include <herald/memory_storage.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>

using namespace herald;
using namespace std::chrono_literals;
using herald::test::admin_of;

namespace {

const Run run_a{.id = "run-a", .name = "resnet-a", .user = "alice"};

Automation loss_rule(std::string name, double threshold, std::size_t window = 5,
                     std::chrono::seconds cooldown = default_cooldown) {
    return {.name = std::move(name),
            .scope = Scope::for_project("acme", "mnist"),
            .trigger = trigger::MetricThreshold{.metric = "loss",
                                                .window = window,
                                                .comparison = Comparison::less,
                                                .threshold = threshold,
                                                .cooldown = cooldown}};
}

struct Fixture {
    std::shared_ptr<MemoryStorage> storage = std::make_shared<MemoryStorage>();
    std::shared_ptr<ManualClock> clock =
        std::make_shared<ManualClock>(Timestamp{std::chrono::hours{24 * 365 * 56}});
    std::unique_ptr<Engine> engine = make_engine();
    std::int64_t step = 0;

    std::unique_ptr<Engine> make_engine() {
        return std::make_unique<Engine>(EngineConfig{.storage = storage, .clock = clock});
    }
    Automation add(Automation a) { return engine->automations().create(admin_of("acme"), a); }
    std::vector<Firing> log(double loss, const Run& run = run_a) {
        return engine->publish(test::metrics_logged("mnist", run, "loss", loss, ++step)).firings;
    }
};

}  // namespace

TEST_CASE("a metric firing carries the observation and the condition as its reason", "[metrics]") {
    Fixture f;
    const Automation a = f.add(loss_rule("low-loss", 0.25));
    for (double v : {0.3, 0.3, 0.2, 0.2})  // averages 0.3, 0.3, 0.267, 0.25
        CHECK(f.log(v).empty());
    const std::vector<Firing> fired = f.log(0.05);
    REQUIRE(fired.size() == 1);
    const Firing& firing = fired[0];
    CHECK(firing.automation_id == a.id);
    CHECK(firing.reason == "avg(loss) over last 5 = 0.21 < 0.25");
    REQUIRE(firing.metric);
    CHECK(firing.metric->metric_name == "loss");
    CHECK(firing.metric->metric_value == 0.05);
    CHECK(firing.metric->metric_values == std::vector<double>{0.3, 0.3, 0.2, 0.2, 0.05});
    CHECK(firing.metric->metric_condition == firing.reason);
    CHECK(std::get<RunMetricsLogged>(firing.event.body).run == run_a);
    CHECK(f.engine->history().by_automation(a.id).front().metric == firing.metric);
}

TEST_CASE("run state firings go through the cooldown, their reason names the state", "[metrics]") {
    Fixture f;
    f.add({.name = "failed",
           .scope = Scope::for_project("acme", "mnist"),
           .trigger = trigger::RunStateChange{.states = {RunState::failed}}});
    const auto publish = [&](RunState s) {
        return f.engine->publish(test::run_state("mnist", run_a, s)).firings;
    };
    const auto fired = publish(RunState::crashed);
    REQUIRE(fired.size() == 1);
    CHECK_FALSE(fired[0].metric);
    CHECK(fired[0].reason == "run 'resnet-a' entered state Crashed");
    CHECK(publish(RunState::failed).empty());  // within 24 h
    f.clock->advance(24h);
    CHECK(publish(RunState::failed).size() == 1);
}

TEST_CASE("an automation created mid-run sees only values logged after it exists", "[metrics]") {
    Fixture f;
    f.add(loss_rule("early", 1, 3, 0s));
    f.log(10);
    f.log(10);
    const Automation late = f.add(loss_rule("late", 1, 3, 0s));
    const std::vector<Firing> fired = f.log(0);  // early: avg(10, 10, 0); late: avg(0)
    REQUIRE(fired.size() == 1);
    CHECK(fired[0].automation_id == late.id);
    CHECK(fired[0].metric->metric_values == std::vector<double>{0});
}

TEST_CASE("editing the condition restarts the windows, cooldowns hold, deleting drops all",
          "[metrics]") {
    Fixture f;
    const Automation a = f.add(loss_rule("rule", 1, 3));
    REQUIRE(f.log(0).size() == 1);
    CHECK(f.log(0).empty());  // cooling down
    f.engine->automations().update(admin_of("acme"), a.id, loss_rule("rule", 5, 3));
    CHECK(f.log(4).empty());  // a fresh window {4} meets the condition, but the cooldown holds
    f.clock->advance(24h);
    const std::vector<Firing> fired = f.log(4);
    REQUIRE(fired.size() == 1);
    CHECK(fired[0].metric->metric_values == std::vector<double>{4, 4});

    f.engine->automations().set_enabled(admin_of("acme"), a.id, false);
    f.log(100);  // not seen while disabled
    f.engine->automations().set_enabled(admin_of("acme"), a.id, true);
    CHECK(f.log(4).empty());  // still cooling down from the firing before the disable
    f.clock->advance(24h);
    const std::vector<Firing> after = f.log(4);
    REQUIRE(after.size() == 1);
    CHECK(after[0].metric->metric_values == std::vector<double>{4, 4});  // restarted at disable

    f.engine->automations().remove(admin_of("acme"), a.id);
    CHECK_FALSE(f.storage->trigger_state().load({.automation_id = a.id, .run_id = run_a.id}));
}

TEST_CASE("renaming, describing or changing the action keeps windows and cooldowns", "[metrics]") {
    Fixture f;
    const Automation a = f.add(loss_rule("rule", 1, 3, 1h));
    f.log(5);
    REQUIRE(f.log(-4).size() == 1);  // avg(5, -4) = 0.5
    Automation edited = loss_rule("renamed", 1, 3, 2h);
    edited.description = "now with a description";
    edited.trigger = trigger::MetricThreshold{.metric = "loss",
                                              .window = 3,
                                              .comparison = Comparison::less,
                                              .threshold = 1,
                                              .runs = {.user = "alice"},
                                              .cooldown = 2h};
    f.engine->automations().update(admin_of("acme"), a.id, edited);
    f.clock->advance(1h);
    CHECK(f.log(0.5).empty());  // the new cooldown of 2 h counts from the firing
    // A restart on the same storage finds the state under the edited automation too.
    f.engine = f.make_engine();
    f.clock->advance(1h);
    const std::vector<Firing> fired = f.log(0.5);
    REQUIRE(fired.size() == 1);
    CHECK(fired[0].automation_name == "renamed");
    CHECK(fired[0].metric->metric_values == std::vector<double>{-4, 0.5, 0.5});
}

TEST_CASE("a resolved firing is recorded as such, after a pending period and a recovery",
          "[metrics]") {
    Fixture f;
    Automation rule = loss_rule("diverging", 0, 1, 0s);
    rule.trigger = trigger::MetricThreshold{
        .metric = "loss",
        .window = 1,
        .comparison = Comparison::greater,
        .threshold = 2,
        .cooldown = 0s,
        .hysteresis = {.pending_evaluations = 2, .recovery = 1.5, .notify_resolved = true}};
    const Automation a = f.add(rule);
    CHECK(f.log(3).empty());  // pending
    const std::vector<Firing> fired = f.log(3);
    REQUIRE(fired.size() == 1);
    CHECK_FALSE(fired[0].metric->resolved);
    CHECK(f.log(1.8).empty());   // recovering
    CHECK(f.log(3).empty());     // the same episode
    f.engine = f.make_engine();  // the state survives the restart
    const std::vector<Firing> resolved = f.log(1.0);
    REQUIRE(resolved.size() == 1);
    CHECK(resolved[0].metric->resolved);
    CHECK(resolved[0].reason == "resolved: avg(loss) over last 1 = 1, no longer > 1.5");
    const auto history = f.engine->history().by_automation(a.id);
    REQUIRE(history.size() == 2);
    CHECK(history.front().metric->resolved);  // newest first
    CHECK_FALSE(history.back().metric->resolved);
}

TEST_CASE("windows and cooldowns survive an engine restart on the same storage", "[metrics]") {
    Fixture f;
    const Automation a = f.add(loss_rule("rule", 1, 3, 1h));
    f.log(5);
    REQUIRE(f.log(-4).size() == 1);  // avg(5, -4) = 0.5
    f.engine = f.make_engine();
    CHECK(f.log(0.5).empty());  // the cooldown came back
    f.clock->advance(1h);
    const std::vector<Firing> fired = f.log(0.5);
    REQUIRE(fired.size() == 1);
    CHECK(fired[0].metric->metric_values ==
          std::vector<double>{-4, 0.5, 0.5});  // so did the window
    CHECK(fired[0].automation_id == a.id);
}

TEST_CASE("publishing from many threads: at most one firing per run per cooldown", "[metrics]") {
    Fixture f;
    const Automation once = f.add(loss_rule("once-per-run", 1, 5));
    const Automation every = f.add(loss_rule("every-event", 1, 1, 0s));
    constexpr int threads = 4;
    constexpr int runs = 8;
    constexpr int events_per_thread = 400;
    std::atomic<int> fired_once{0};
    std::atomic<int> fired_every{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
            for (int i = 0; i < events_per_thread; ++i) {
                const Run run{.id = "run-" + std::to_string((t + i) % runs)};
                const auto receipt =
                    f.engine->publish(test::metrics_logged("mnist", run, "loss", 0.5));
                for (const Firing& firing : receipt.firings)
                    ++(firing.automation_id == once.id ? fired_once : fired_every);
            }
        });
    for (std::thread& t : pool)
        t.join();
    CHECK(fired_once == runs);
    CHECK(fired_every == threads * events_per_thread);
}

TEST_CASE("metric windows are bounded, so each tracked run's memory is", "[metrics]") {
    Fixture f;
    const auto refused_field = [&](Trigger t) -> std::string {
        try {
            f.add({.name = "w", .scope = Scope::for_project("acme", "mnist"), .trigger = t});
        } catch (const Error& e) {
            CHECK(e.code() == errc::invalid_argument);
            return e.field();
        }
        return "";
    };
    CHECK(refused_field(trigger::MetricThreshold{
              .metric = "loss", .window = max_metric_window + 1}) == "trigger.window");
    CHECK(refused_field(trigger::MetricChange{
              .metric = "loss", .prior_window = max_metric_window + 1, .amount = 1}) ==
          "trigger.prior_window");
    CHECK(refused_field(trigger::MetricZScore{.metric = "loss", .window = max_metric_window + 1}) ==
          "trigger.window");
    CHECK(refused_field(trigger::MetricThreshold{.metric = "loss", .window = max_metric_window})
              .empty());
}
