// Engine::dry_run: every automation whose scope holds the event with its verdict and reason,
// payloads masked, sequences of run metric events, and nothing recorded or changed.
#include "support/error_of.hpp"
#include "support/event_builders.hpp"

#include <herald/engine.hpp>
#include <herald/error.hpp>
#include <herald/memory_storage.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>

using namespace herald;
using namespace std::chrono_literals;
using herald::test::admin_of;

namespace {

const Run run_a{.id = "run-a", .name = "resnet-a", .user = "alice"};
const Timestamp start{std::chrono::hours{24 * 365 * 56}};

struct Fixture {
    std::shared_ptr<MemoryStorage> storage = std::make_shared<MemoryStorage>();
    std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>(start);
    std::unique_ptr<Engine> engine = make_engine();
    std::int64_t step = 0;

    std::unique_ptr<Engine> make_engine() {
        return std::make_unique<Engine>(EngineConfig{.storage = storage, .clock = clock});
    }
    Automation add(Automation a) { return engine->automations().create(admin_of("acme"), a); }
    Event loss(double value, const Run& run = run_a) {
        return test::metrics_logged("mnist", run, "loss", value, ++step);
    }
    /// The verdicts on a sequence of loss values, one event each, for the one automation.
    std::vector<DryRunVerdict> try_losses(std::vector<double> values) {
        std::vector<Event> events;
        for (double v : values)
            events.push_back(loss(v));
        std::vector<DryRunVerdict> out;
        for (const DryRunEvent& e : engine->dry_run(std::move(events))) {
            REQUIRE(e.automations.size() == 1);
            out.push_back(e.automations.front());
        }
        return out;
    }
    std::size_t firings() const {
        HistoryQuery all;
        all.limit = 1000;
        return storage->history().query(all).size();
    }
};

Automation loss_below(std::string name, double threshold, std::size_t window,
                      Hysteresis hysteresis = {}) {
    return {.name = std::move(name),
            .scope = Scope::for_project("acme", "mnist"),
            .trigger = trigger::MetricThreshold{.metric = "loss",
                                                .window = window,
                                                .comparison = Comparison::less,
                                                .threshold = threshold,
                                                .hysteresis = hysteresis}};
}

Automation alias_rule(std::string name, std::string alias = "production") {
    return {.name = std::move(name),
            .scope = Scope::for_project("acme", "mnist"),
            .trigger = trigger::AddArtifactAlias{.alias = Pattern{std::move(alias)}}};
}

std::vector<DryRunOutcome> outcomes_of(const std::vector<DryRunVerdict>& verdicts) {
    std::vector<DryRunOutcome> out;
    for (const DryRunVerdict& v : verdicts)
        out.push_back(v.outcome);
    return out;
}

}  // namespace

TEST_CASE("dry-run lists the automations whose scope holds the event, why each fires or not",
          "[dry-run]") {
    Fixture f;
    f.engine->secrets().put(admin_of("acme"), "acme", "DEPLOY_KEY", "s3cr3t-value");
    f.engine->integrations().create(
        admin_of("acme"),
        WebhookIntegration{.entity = "acme", .name = "ci", .url = "https://ci.example.com/hook"});
    Automation hook = alias_rule("deploy");
    hook.action = action::Webhook{
        .integration = "ci",
        .payload = R"({"alias": "${artifact_version_string}", "key": "${DEPLOY_KEY}"})"};
    const Automation deploy = f.add(hook);
    const Automation off = f.add(alias_rule("off"));
    f.engine->automations().set_enabled(admin_of("acme"), off.id, false);
    f.add(alias_rule("staging", "staging"));
    Automation other = alias_rule("elsewhere");
    other.scope = Scope::for_project("acme", "cifar");
    f.add(other);
    Automation tags = alias_rule("tags");
    tags.trigger = trigger::AddArtifactTag{};
    f.add(tags);  // listens to another kind

    Event event = test::alias_added("acme", "mnist", "clf", "production");
    event.id = "event-1";
    const DryRunEvent r = f.engine->dry_run(event);
    CHECK(r.event_id == "event-1");
    REQUIRE(r.automations.size() == 3);  // in name order; "elsewhere" and "tags" do not apply
    const DryRunVerdict& fires = r.automations[0];
    CHECK(fires.automation_id == deploy.id);
    CHECK(fires.outcome == DryRunOutcome::fires);
    CHECK(fires.reason ==
          "alias 'production' added to acme/mnist/clf:v1 (alias matches 'production')");
    CHECK(fires.payload == R"({"alias":"acme/mnist/clf:production","key":"********"})");
    CHECK(fires.payload_error.empty());
    CHECK(r.automations[1].automation_name == "off");
    CHECK(r.automations[1].outcome == DryRunOutcome::disabled);
    CHECK(r.automations[2].automation_name == "staging");
    CHECK(r.automations[2].outcome == DryRunOutcome::filtered);
    CHECK(r.automations[2].reason == "alias 'production' does not match 'staging'");

    // Nothing was recorded, queued or counted.
    CHECK(f.firings() == 0);
    CHECK(f.storage->outbox().pending_count() == 0);
    CHECK(f.engine->publish(event).firings.size() == 1);
}

TEST_CASE("dry-run says why a delivery would fail and what a Slack message would say",
          "[dry-run]") {
    Fixture f;
    WebhookIntegration ci{.entity = "acme", .name = "ci", .url = "https://ci.example.com/hook"};
    f.engine->integrations().create(admin_of("acme"), ci);
    Automation hook = alias_rule("off-integration");
    hook.action = action::Webhook{.integration = "ci"};
    f.add(hook);
    ci.enabled = false;
    f.engine->integrations().update(admin_of("acme"), ci);
    f.engine->secrets().put(admin_of("acme"), "acme", "SLACK_HOOK", "https://hooks.example/x");
    f.engine->integrations().create(
        admin_of("acme"),
        SlackIntegration{.entity = "acme", .name = "chat", .webhook_url_secret = "SLACK_HOOK"});
    Automation chat = alias_rule("slack");
    chat.action = action::SlackNotification{.integration = "chat",
                                            .title = "Promoted",
                                            .message = "${artifact_version_string} is live"};
    f.add(chat);

    const DryRunEvent r =
        f.engine->dry_run(test::alias_added("acme", "mnist", "clf", "production"));
    REQUIRE(r.automations.size() == 2);
    CHECK(r.automations[0].outcome == DryRunOutcome::fires);
    CHECK(r.automations[0].payload.empty());
    CHECK(r.automations[0].payload_error == "integration 'ci' is disabled");
    CHECK(r.automations[1].payload_error.empty());
    CHECK_THAT(r.automations[1].payload,
               Catch::Contains("Promoted") && Catch::Contains("acme/mnist/clf:production is live"));
    CHECK_THAT(r.automations[1].payload, !Catch::Contains("hooks.example"));
}

TEST_CASE("dry-run refuses link events outside registries when the host names them", "[dry-run]") {
    EngineConfig config;
    config.is_registry = [](std::string_view, std::string_view project) {
        return project == "model-registry";
    };
    Engine engine{config};
    engine.automations().create(
        admin_of("acme"),
        {.name = "linked", .scope = Scope::for_entity("acme"), .trigger = trigger::LinkArtifact{}});
    const DryRunEvent r = engine.dry_run(test::artifact_event(
        "acme", "mnist",
        ArtifactLinked{.version = test::version("clf"),
                       .source = {.entity = "acme", .project = "mnist", .collection = "clf"}}));
    REQUIRE(r.automations.size() == 1);
    CHECK(r.automations[0].outcome == DryRunOutcome::not_a_registry);
}

TEST_CASE("a run metric dry-run takes a sequence and says where the condition stands",
          "[dry-run]") {
    Fixture f;
    const Automation a = f.add(loss_below("low-loss", 0.25, 3));
    const std::vector<DryRunVerdict> v = f.try_losses({0.5, 0.3, 0.1, 0.0, 0.1});
    CHECK(outcomes_of(v) == std::vector{DryRunOutcome::not_met, DryRunOutcome::not_met,
                                        DryRunOutcome::not_met, DryRunOutcome::fires,
                                        DryRunOutcome::cooldown});
    CHECK(v[1].reason == "avg(loss) over last 2 = 0.4, not < 0.25");
    CHECK(v[3].reason == "avg(loss) over last 3 = 0.133333 < 0.25");
    REQUIRE(v[3].metric);
    CHECK(v[3].metric->metric_values == std::vector<double>{0.3, 0.1, 0.0});
    REQUIRE(v[4].cooldown_until);
    CHECK(*v[4].cooldown_until == start + 24h);

    // Nothing of the sequence stayed: publishing the same values fires on the same one.
    CHECK(f.firings() == 0);
    f.step = 0;
    std::vector<std::size_t> fired;
    for (double x : {0.5, 0.3, 0.1, 0.0, 0.1})
        fired.push_back(f.engine->publish(f.loss(x)).firings.size());
    CHECK(fired == std::vector<std::size_t>{0, 0, 0, 1, 0});
    CHECK(f.engine->history().by_automation(a.id).size() == 1);
}

TEST_CASE("a dry-run starts from the live windows, and from the store after a restart",
          "[dry-run]") {
    Fixture f;
    f.add(loss_below("low-loss", 0.25, 3));
    f.engine->publish(f.loss(0.3));
    f.engine->publish(f.loss(0.3));
    CHECK(f.try_losses({0.5})[0].reason == "avg(loss) over last 3 = 0.366667, not < 0.25");
    const auto live = f.try_losses({0});
    REQUIRE(live[0].outcome == DryRunOutcome::fires);
    CHECK(live[0].metric->metric_values == std::vector<double>{0.3, 0.3, 0});

    f.engine = f.make_engine();  // the same storage: the windows come back from it
    const auto restarted = f.try_losses({0});
    REQUIRE(restarted[0].outcome == DryRunOutcome::fires);
    CHECK(restarted[0].metric->metric_values == std::vector<double>{0.3, 0.3, 0});
    CHECK(f.try_losses({0.5})[0].outcome == DryRunOutcome::not_met);
}

TEST_CASE("dry-run shows a pending period counting down, then the recovery", "[dry-run]") {
    Fixture f;
    f.add(loss_below("low-loss", 0.25, 1, {.pending_evaluations = 3, .recovery = 0.5}));
    const std::vector<DryRunVerdict> v = f.try_losses({0.1, 0.1, 0.1, 0.1, 0.4, 0.1, 0.6, 0.1});
    CHECK(outcomes_of(v) == std::vector{DryRunOutcome::pending, DryRunOutcome::pending,
                                        DryRunOutcome::fires, DryRunOutcome::recovering,
                                        DryRunOutcome::recovering, DryRunOutcome::recovering,
                                        DryRunOutcome::not_met, DryRunOutcome::pending});
    CHECK(v[0].pending_evaluations == 2);
    CHECK(v[1].pending_evaluations == 1);
    CHECK(
        v[0].reason ==
        "the condition holds (avg(loss) over last 1 = 0.1 < 0.25) but must hold for 2 more values");
    CHECK(v[4].reason ==
          "avg(loss) over last 1 = 0.4, not < 0.25; recovering until it crosses back past 0.5");
    CHECK_FALSE(v[0].pending_until);
}

TEST_CASE("dry-run gives a pending duration its end", "[dry-run]") {
    Fixture f;
    f.add(loss_below("low-loss", 0.25, 1, {.pending_for = 10min}));
    const std::vector<DryRunVerdict> v = f.try_losses({0.1});
    CHECK(v[0].outcome == DryRunOutcome::pending);
    CHECK(v[0].pending_evaluations == 0);
    REQUIRE(v[0].pending_until);
    CHECK(*v[0].pending_until == start + 10min);
}

TEST_CASE("dry-run says when a window is not full yet", "[dry-run]") {
    Fixture f;
    f.add({.name = "jump",
           .scope = Scope::for_project("acme", "mnist"),
           .trigger = trigger::MetricChange{
               .metric = "loss", .current_window = 2, .prior_window = 2, .amount = 0.5}});
    f.add({.name = "spike",
           .scope = Scope::for_project("acme", "mnist"),
           .trigger = trigger::MetricZScore{.metric = "loss", .window = 5}});
    const std::vector<DryRunEvent> r = f.engine->dry_run({f.loss(1), f.loss(1), f.loss(1)});
    REQUIRE(r[0].automations.size() == 2);
    CHECK(r[0].automations[0].outcome == DryRunOutcome::window_not_full);
    CHECK(r[0].automations[0].reason ==
          "avg(loss) needs 2 values in its current window and one before them; it has 1");
    CHECK(r[0].automations[1].outcome == DryRunOutcome::window_not_full);
    CHECK(r[0].automations[1].reason ==
          "z(loss) needs at least 2 values before the latest; it has 0");
    CHECK(r[2].automations[0].outcome == DryRunOutcome::not_met);
    CHECK(r[2].automations[1].reason ==
          "z(loss) is undefined: the 2 values before the latest are all equal");
}

TEST_CASE("a dry-run across runs compares with a copy of the population", "[dry-run]") {
    Fixture f;
    f.add({.name = "outlier",
           .scope = Scope::for_project("acme", "mnist"),
           .trigger = trigger::MetricZScore{
               .metric = "loss", .mode = ZScoreMode::across_runs, .threshold = 2}});
    for (int i = 0; i < 4; ++i)
        f.engine->publish(f.loss(1 + 0.1 * i, {.id = "run-" + std::to_string(i)}));
    const Run odd{.id = "odd"};
    const std::vector<DryRunEvent> r = f.engine->dry_run({f.loss(50, odd), f.loss(1.1, run_a)});
    CHECK(r[0].automations[0].outcome == DryRunOutcome::fires);
    // run-a is compared with the copy that holds odd's 50: the spread makes 1.1 ordinary.
    CHECK(r[1].automations[0].outcome == DryRunOutcome::not_met);
    // The live population never saw 50.
    CHECK(f.engine->dry_run(f.loss(1.1, run_a)).automations[0].outcome == DryRunOutcome::not_met);
    CHECK(f.engine->publish(f.loss(50, odd)).firings.size() == 1);
}

TEST_CASE("dry-run says when an event has no value the trigger takes", "[dry-run]") {
    Fixture f;
    f.add(loss_below("low-loss", 0.25, 3));
    const std::vector<DryRunEvent> other =
        f.engine->dry_run({test::metrics_logged("mnist", run_a, "accuracy", 0.9, 1),
                           test::metrics_logged("mnist", run_a, "loss", std::nan(""), 2),
                           test::metrics_logged("mnist", run_a, "loss", 0.1, 5),
                           test::metrics_logged("mnist", run_a, "loss", 0.1, 4)});
    CHECK(other[0].automations[0].outcome == DryRunOutcome::no_value);
    CHECK(other[0].automations[0].reason == "the event does not log 'loss'");
    CHECK(other[1].automations[0].outcome == DryRunOutcome::no_value);
    CHECK(other[1].automations[0].reason == "the event has no finite value of 'loss'");
    CHECK(other[2].automations[0].outcome == DryRunOutcome::fires);
    CHECK(other[3].automations[0].outcome == DryRunOutcome::no_value);
    CHECK(other[3].automations[0].reason == "step 4 is before the latest accepted step, 5");
}

TEST_CASE("dry-run applies run filters and run state cooldowns", "[dry-run]") {
    Fixture f;
    f.add({.name = "failed",
           .scope = Scope::for_project("acme", "mnist"),
           .trigger =
               trigger::RunStateChange{.states = {RunState::failed}, .runs = {.user = "bob"}}});
    f.add({.name = "finished",
           .scope = Scope::for_project("acme", "mnist"),
           .trigger = trigger::RunStateChange{.states = {RunState::finished}}});
    const Run bobs{.id = "b", .name = "bobs", .user = "bob"};
    const std::vector<DryRunEvent> r =
        f.engine->dry_run({test::run_state("mnist", run_a, RunState::failed),
                           test::run_state("mnist", bobs, RunState::failed),
                           test::run_state("mnist", bobs, RunState::failed)});
    CHECK(r[0].automations[0].outcome == DryRunOutcome::filtered);
    CHECK(r[0].automations[0].reason == "the run's user 'alice' is not 'bob'");
    CHECK(r[0].automations[1].outcome == DryRunOutcome::filtered);
    CHECK(r[0].automations[1].reason == "state Failed is not one the trigger chose");
    CHECK(r[1].automations[0].outcome == DryRunOutcome::fires);
    CHECK(r[1].automations[0].reason == "run 'bobs' entered state Failed");
    CHECK(r[2].automations[0].outcome == DryRunOutcome::cooldown);
    CHECK(f.engine->publish(test::run_state("mnist", bobs, RunState::failed)).firings.size() == 1);
}

TEST_CASE("a sequence with an event publish refuses is refused whole, naming it", "[dry-run]") {
    Fixture f;
    f.add(loss_below("low-loss", 0.25, 3));
    Event bad = f.loss(0.1);
    std::get<RunMetricsLogged>(bad.body).step = -1;
    const Error e = test::error_of([&] { f.engine->dry_run({f.loss(0.1), bad}); });
    CHECK(e.code() == errc::invalid_argument);
    CHECK(e.field() == "events[1].step");
    CHECK(to_string(DryRunOutcome::window_not_full) == "WINDOW_NOT_FULL");
}
