#include "support/error_of.hpp"
#include "support/test_storage.hpp"

#include <herald/error.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <exception>
#include <limits>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

using namespace std::chrono_literals;

namespace {

const herald::Timestamp t0{std::chrono::hours{1000}};

herald::Firing firing(std::string id, std::string automation, std::string integration,
                      herald::Timestamp time, std::string entity = "acme") {
    herald::Firing f;
    f.id = std::move(id);
    f.automation_id = std::move(automation);
    f.integration = std::move(integration);
    f.event.entity = std::move(entity);
    f.time = time;
    return f;
}

std::vector<std::string> ids(const std::vector<herald::Firing>& firings) {
    std::vector<std::string> out;
    for (const auto& f : firings)
        out.push_back(f.id);
    return out;
}

/// Firings "0" to "9", a second apart: automation "even" or "odd" by their number, integration
/// "deploy" for 0 to 4, entity "other" for 9 ("acme" otherwise), project "mnist" for 0, 3, 6
/// and 9 ("cifar" otherwise).
std::vector<herald::Firing> ten_firings() {
    std::vector<herald::Firing> fs;
    for (int i = 0; i < 10; ++i) {
        herald::Firing f = firing(std::to_string(i), i % 2 ? "odd" : "even", i < 5 ? "deploy" : "",
                                  t0 + std::chrono::seconds{i}, i == 9 ? "other" : "acme");
        f.event.project = i % 3 == 0 ? "mnist" : "cifar";
        fs.push_back(std::move(f));
    }
    return fs;
}

/// The backend's history without its own `count_firings`, so the default counts.
class CountingThroughQuery final : public herald::HistoryStore {
  public:
    explicit CountingThroughQuery(herald::HistoryStore& inner) : inner_(inner) {}
    void append(std::span<const herald::Firing> firings) override { inner_.append(firings); }
    void update(std::span<const herald::FiringUpdate> updates) override { inner_.update(updates); }
    std::optional<herald::Firing> find(std::string_view firing_id) const override {
        return inner_.find(firing_id);
    }
    std::optional<herald::RecordedAction> recorded_action(
        std::string_view firing_id) const override {
        return inner_.recorded_action(firing_id);
    }
    std::vector<herald::Firing> query(const herald::HistoryQuery& query) const override {
        return inner_.query(query);
    }
    void remember_event(std::string_view event_id, herald::Timestamp time,
                        std::span<const herald::Firing> firings) override {
        inner_.remember_event(event_id, time, firings);
    }
    std::optional<std::vector<herald::Firing>> event_firings(
        std::string_view event_id) const override {
        return inner_.event_firings(event_id);
    }

  private:
    herald::HistoryStore& inner_;
};

/// Checks `count_firings` of an empty history, then after appends and updates.
void check_counts(herald::HistoryStore& history) {
    using S = herald::FiringStatus;
    const herald::FiringCounts none{
        {S::pending, 0}, {S::finished, 0}, {S::failed, 0}, {S::skipped, 0}, {S::dead, 0}};
    CHECK(history.count_firings() == none);

    const herald::Firing fs[] = {firing("1", "a", "deploy", t0), firing("2", "a", "deploy", t0),
                                 firing("3", "b", "", t0 + 1s), firing("4", "b", "", t0 + 2s)};
    history.append(fs);
    const herald::FiringUpdate updates[] = {{.firing_id = "1", .status = S::finished},
                                            {.firing_id = "2", .status = S::dead},
                                            {.firing_id = "3", .status = S::finished}};
    history.update(updates);
    const herald::FiringCounts counts{
        {S::pending, 1}, {S::finished, 2}, {S::failed, 0}, {S::skipped, 0}, {S::dead, 1}};
    CHECK(history.count_firings() == counts);
}

/// Checks `count_firings(query)`: every field of a query narrows the count, `before` as in
/// `query`, and its limit does not.
void check_query_counts(herald::HistoryStore& history) {
    using S = herald::FiringStatus;
    history.append(ten_firings());
    const herald::FiringUpdate updates[] = {{.firing_id = "2", .status = S::finished},
                                            {.firing_id = "4", .status = S::failed},
                                            {.firing_id = "7", .status = S::finished},
                                            {.firing_id = "8", .status = S::dead}};
    history.update(updates);

    // pending, finished, failed, skipped, dead
    const auto counts = [](std::size_t p, std::size_t fi, std::size_t fa, std::size_t d) {
        return herald::FiringCounts{
            {S::pending, p}, {S::finished, fi}, {S::failed, fa}, {S::skipped, 0}, {S::dead, d}};
    };
    CHECK(history.count_firings({}) == counts(6, 2, 1, 1));
    CHECK(history.count_firings({.limit = 1}) == counts(6, 2, 1, 1));
    CHECK(history.count_firings({.automation_id = "odd"}) == counts(4, 1, 0, 0));
    CHECK(history.count_firings({.automation_id = "even", .from = t0 + 3s}) == counts(1, 0, 1, 1));
    CHECK(history.count_firings({.from = t0 + 2s, .until = t0 + 8s}) == counts(3, 2, 1, 0));
    CHECK(history.count_firings({.entity = "other"}) == counts(1, 0, 0, 0));
    CHECK(history.count_firings({.entity = "acme", .project = "mnist"}) == counts(3, 0, 0, 0));
    CHECK(history.count_firings({.entity = "acme", .integration = "deploy"}) == counts(3, 1, 1, 0));
    CHECK(history.count_firings({.status = S::finished}) == counts(0, 2, 0, 0));
    CHECK(history.count_firings({.automation_id = "even", .before = "6"}) == counts(1, 1, 1, 0));
    CHECK(history.count_firings({.before = "no-such-firing"}) == counts(0, 0, 0, 0));
    CHECK(history.count_firings({.automation_id = "none"}) == counts(0, 0, 0, 0));
}

}  // namespace

TEST_CASE("history is queried per automation, per integration and by time", "[history]") {
    auto storage = herald::test::make_storage();
    herald::HistoryStore& history = storage->history();
    const herald::Firing fs[] = {
        firing("1", "a", "deploy", t0), firing("2", "b", "deploy", t0 + 1s),
        firing("3", "a", "slack", t0 + 2s), firing("4", "c", "deploy", t0 + 3s, "other")};
    history.append(fs);

    CHECK(ids(history.by_automation("a")) == std::vector<std::string>{"3", "1"});
    CHECK(ids(history.by_automation("a", 1)) == std::vector<std::string>{"3"});
    CHECK(history.by_automation("none").empty());
    CHECK(ids(history.query({.entity = "acme", .integration = "deploy"})) ==
          std::vector<std::string>{"2", "1"});
    CHECK(ids(history.query({.from = t0 + 1s, .until = t0 + 3s})) ==
          std::vector<std::string>{"3", "2"});
    CHECK(ids(history.query({.automation_id = "a", .from = t0 + 1s})) ==
          std::vector<std::string>{"3"});
    CHECK(ids(history.query({.limit = 2})) == std::vector<std::string>{"4", "3"});
    REQUIRE(history.last_execution("a"));
    CHECK(history.last_execution("a")->id == "3");
    CHECK_FALSE(history.last_execution("none"));
}

TEST_CASE("history is filtered by entity, project and status and paged with before", "[history]") {
    auto storage = herald::test::make_storage();
    herald::HistoryStore& history = storage->history();
    history.append(ten_firings());
    const herald::FiringUpdate finished[] = {
        {.firing_id = "2", .status = herald::FiringStatus::finished},
        {.firing_id = "7", .status = herald::FiringStatus::finished},
        {.firing_id = "8", .status = herald::FiringStatus::dead}};
    history.update(finished);

    using V = std::vector<std::string>;
    CHECK(ids(history.query({.entity = "acme"})) == V{"8", "7", "6", "5", "4", "3", "2", "1", "0"});
    CHECK(ids(history.query({.entity = "other"})) == V{"9"});
    CHECK(ids(history.query({.entity = "acme", .project = "mnist"})) == V{"6", "3", "0"});
    CHECK(ids(history.query({.status = herald::FiringStatus::finished})) == V{"7", "2"});
    CHECK(ids(history.query({.entity = "acme", .status = herald::FiringStatus::dead})) == V{"8"});
    CHECK(ids(history.query(
              {.entity = "acme", .project = "cifar", .status = herald::FiringStatus::pending})) ==
          V{"5", "4", "1"});

    // Pages: the last id of one asks for the next, with every filter kept.
    CHECK(ids(history.query({.entity = "acme", .limit = 4})) == V{"8", "7", "6", "5"});
    CHECK(ids(history.query({.entity = "acme", .before = "5", .limit = 4})) ==
          V{"4", "3", "2", "1"});
    CHECK(ids(history.query({.entity = "acme", .before = "1", .limit = 4})) == V{"0"});
    CHECK(history.query({.entity = "acme", .before = "0"}).empty());
    CHECK(ids(history.query({.automation_id = "odd", .before = "7"})) == V{"5", "3", "1"});
    CHECK(ids(history.query({.entity = "acme", .integration = "deploy", .before = "3"})) ==
          V{"2", "1", "0"});
    CHECK(ids(history.query({.before = "9", .limit = 2})) == V{"8", "7"});
    CHECK(history.query({.before = "no-such-firing"}).empty());
}

TEST_CASE("history updates append attempts and set status and payload", "[history]") {
    auto storage = herald::test::make_storage();
    herald::HistoryStore& history = storage->history();
    const herald::Firing f = firing("1", "a", "deploy", t0);
    history.append({&f, 1});

    const herald::FiringUpdate updates[] = {
        {.firing_id = "1",
         .status = herald::FiringStatus::pending,
         .attempt = herald::DeliveryAttempt{.number = 1, .status_code = 500, .error = "HTTP 500"},
         .payload = R"({"token":"***"})"},
        {.firing_id = "1",
         .status = herald::FiringStatus::finished,
         .attempt = herald::DeliveryAttempt{.number = 2, .status_code = 200}},
        {.firing_id = "unknown", .status = herald::FiringStatus::dead}};
    history.update(updates);

    auto got = history.find("1");
    REQUIRE(got);
    CHECK(got->status == herald::FiringStatus::finished);
    CHECK(got->payload == R"({"token":"***"})");
    REQUIRE(got->attempts.size() == 2);
    CHECK(got->attempts[0].status_code == 500);
    CHECK(got->attempts[1].number == 2);
    CHECK_FALSE(history.find("unknown"));
}

TEST_CASE("history keeps every field of a firing", "[history]") {
    auto storage = herald::test::make_storage();
    herald::Firing f = firing("1", "a", "deploy", t0);
    f.automation_name = "deploy on production";
    f.action = herald::ActionKind::webhook;
    f.event.id = "event-1";
    f.event.time = t0 - 1s;
    f.event.author = "grace";
    f.event.project = "model-registry";
    f.event.body =
        herald::ArtifactLinked{.version = {.collection = "resnet",
                                           .collection_type = "model",
                                           .index = 3,
                                           .id = "v-id",
                                           .uri = "wandb-artifact://_id/v-id",
                                           .aliases = {"latest", "production"},
                                           .tags = {"vision"},
                                           .metadata = {{"accuracy", 0.91}, {"nested", {1, 2}}}},
                               .source = {.entity = "acme", .project = "p", .index = 7}};
    f.reason = "alias 'production' added";
    f.metric = herald::MetricObservation{.metric_name = "loss",
                                         .metric_value = 0.125,
                                         .metric_values = {0.5, 0.25, 0.125},
                                         .metric_condition = "avg(loss) over 3 < 0.3"};
    f.payload = R"({"token":"********"})";
    f.attempts = {{.number = 1,
                   .time = t0,
                   .status_code = 503,
                   .latency = 1500us,
                   .error = "HTTP 503",
                   .response_body = "busy"}};
    storage->history().append({&f, 1});
    CHECK(storage->history().find("1") == f);

    herald::Firing run = firing("2", "b", "", t0);
    run.event.body = herald::RunMetricsLogged{
        .run = {.id = "r1", .name = "fast-run", .user = "grace"},
        .step = 4,
        .metrics = {{.name = "loss", .value = 0.1},
                    {.name = "acc", .value = 1e-300},
                    {.name = "loss", .value = -std::numeric_limits<double>::infinity()}}};
    storage->history().append({&run, 1});
    CHECK(storage->history().find("2") == run);

    // A host may log NaN (a diverged loss) next to the metric that fired.
    herald::Firing diverged = firing("3", "b", "", t0);
    diverged.event.body = herald::RunMetricsLogged{
        .run = {.id = "r1"},
        .step = 5,
        .metrics = {{.name = "loss", .value = std::numeric_limits<double>::quiet_NaN()}}};
    storage->history().append({&diverged, 1});
    const auto found = storage->history().find("3");
    REQUIRE(found);
    CHECK(std::isnan(std::get<herald::RunMetricsLogged>(found->event.body).metrics.at(0).value));
}

TEST_CASE("history tells a resolved metric firing apart", "[history]") {
    auto storage = herald::test::make_storage();
    herald::Firing f = firing("1", "a", "", t0);
    f.metric = herald::MetricObservation{
        .metric_name = "loss",
        .metric_value = 0.4,
        .metric_values = {0.4},
        .metric_condition = "resolved: avg(loss) over last 1 = 0.4, no longer > 0.5",
        .resolved = true};
    herald::Firing plain = firing("2", "a", "", t0);
    plain.metric = herald::MetricObservation{.metric_name = "loss", .metric_value = 2};
    storage->history().append(std::vector{f, plain});
    CHECK(storage->history().find("1") == f);
    CHECK(storage->history().find("2") == plain);
}

TEST_CASE("the automation store keeps automations by id", "[storage]") {
    auto storage = herald::test::make_storage();
    herald::AutomationStore& store = storage->automations();
    herald::Automation a{
        .id = "a1",
        .name = "deploy",
        .scope = herald::Scope::for_registry("acme", "model-registry"),
        .trigger = herald::trigger::AddArtifactAlias{.alias = herald::Pattern{"production"}},
        .action =
            herald::action::Webhook{.integration = "deploy", .payload = R"({"a":"${alias}"})"},
        .creator = "grace",
        .created_at = t0,
        .updated_at = t0};
    herald::Automation b = a;
    b.id = "a0";
    b.name = "other";
    b.action = herald::action::None{};
    store.insert(a);
    store.insert(b);
    CHECK_THROWS_AS(store.insert(a), herald::Error);
    CHECK(store.find("a1") == a);
    CHECK_FALSE(store.find("none"));
    REQUIRE(store.all().size() == 2);
    CHECK(store.all()[0] == b);

    a.enabled = false;
    a.updated_at = t0 + 1s;
    store.update(a);
    CHECK(store.find("a1") == a);
    herald::Automation missing = a;
    missing.id = "missing";
    CHECK_THROWS_AS(store.update(missing), herald::Error);

    CHECK(store.erase("a1"));
    CHECK_FALSE(store.erase("a1"));
    CHECK(store.all() == std::vector<herald::Automation>{b});

    // A webhook without a payload (it sends the default body) reads back without one.
    herald::Automation c = a;
    c.id = "a2";
    c.action = herald::action::Webhook{.integration = "deploy"};
    store.insert(c);
    CHECK(store.find("a2") == c);
}

TEST_CASE("record_firings writes history and outbox together, all or none", "[storage]") {
    auto storage = herald::test::make_storage();
    const herald::Firing fs[] = {firing("1", "a", "deploy", t0), firing("2", "a", "deploy", t0)};
    const herald::NewDelivery d{.firing = 0,
                                .action = herald::action::None{},
                                .trigger = herald::TriggerKind::add_artifact_alias,
                                .due = t0};
    storage->record_firings(fs, {&d, 1});
    CHECK(storage->history().find("2"));
    CHECK(storage->outbox().pending_count() == 1);

    // The dispatcher's history updates do not change the delivery's firing: it is the firing as
    // it fired (status pending, no payload, no attempts).
    const herald::FiringUpdate tried{.firing_id = "1",
                                     .status = herald::FiringStatus::failed,
                                     .attempt = herald::DeliveryAttempt{.number = 1},
                                     .payload = "{}"};
    storage->history().update({&tried, 1});
    const auto claimed = storage->outbox().claim(t0, 1, t0 + 1min);
    REQUIRE(claimed.size() == 1);
    CHECK(claimed[0] ==
          herald::Delivery{.firing = fs[0], .action = d.action, .trigger = d.trigger, .due = t0});

    // A firing already in the history: neither it nor the new one nor the delivery is recorded.
    const herald::Firing more[] = {firing("3", "a", "deploy", t0), firing("1", "a", "deploy", t0)};
    CHECK(herald::test::error_of([&] {
              storage->record_firings(more, {&d, 1});
          }).code() == herald::errc::already_exists);
    CHECK_FALSE(storage->history().find("3"));
    CHECK(storage->outbox().pending_count() == 1);
}

TEST_CASE("record_publish writes trigger state with its firings, all or none", "[storage]") {
    auto storage = herald::test::make_storage();
    const herald::Firing fired[] = {firing("1", "thr", "", t0)};
    const herald::TriggerStateChange changes[] = {
        {.automation_id = "thr",
         .run_id = "run-a",
         .values = {0.5, 0.25},
         .step = 7,
         .keep = 3,
         .fired = t0,
         .condition = herald::ConditionProgress{.state = herald::ConditionState::firing,
                                                .streak = 2,
                                                .holding_since = t0,
                                                .fired = true},
         .population_value = 0.25,
         .population_keep = 4},
        {.automation_id = "thr", .run_id = "run-b", .values = {1.0}, .step = 1, .keep = 3}};
    storage->record_publish({.firings = fired, .trigger_state = changes});
    CHECK(storage->history().find("1"));
    CHECK(storage->trigger_state().load({"thr", "run-a"}) ==
          herald::RunTriggerState{.values = {0.5, 0.25},
                                  .last_step = 7,
                                  .last_fired = t0,
                                  .condition = *changes[0].condition});
    CHECK(storage->trigger_state().load({"thr", "run-b"}) ==
          herald::RunTriggerState{.values = {1.0}, .last_step = 1});
    CHECK(storage->trigger_state().load_population("thr") ==
          std::vector<herald::PopulationValue>{{"run-a", 0.25}});

    // A record without firings still writes its state: values an event was judged on.
    const herald::TriggerStateChange later[] = {
        {.automation_id = "thr", .run_id = "run-b", .values = {2.0, 3.0}, .step = 2, .keep = 3}};
    storage->record_publish({.trigger_state = later});
    CHECK(storage->trigger_state().load({"thr", "run-b"})->values ==
          std::vector<double>{1.0, 2.0, 3.0});

    // A record whose firing cannot be written writes none of its state either.
    const herald::TriggerStateChange refused[] = {
        {.automation_id = "thr", .run_id = "run-c", .step = 1, .fired = t0}};
    CHECK(herald::test::error_of([&] {
              storage->record_publish({.firings = fired, .trigger_state = refused});
          }).code() == herald::errc::already_exists);
    CHECK_FALSE(storage->trigger_state().load({"thr", "run-c"}));
}

TEST_CASE("record_publish remembers an event id and refuses it again writing nothing",
          "[storage]") {
    auto storage = herald::test::make_storage();
    const herald::Firing first[] = {firing("1", "a", "deploy", t0)};
    const herald::NewDelivery delivery{.firing = 0,
                                       .action = herald::action::Webhook{.integration = "deploy"},
                                       .trigger = herald::TriggerKind::add_artifact_alias,
                                       .due = t0};
    const herald::TriggerStateChange moved[] = {
        {.automation_id = "thr", .run_id = "run-a", .values = {1.0}, .step = 1, .keep = 3}};
    CHECK_FALSE(storage->history().event_firings("ev-1"));
    storage->record_publish({.firings = first,
                             .deliveries = {&delivery, 1},
                             .trigger_state = moved,
                             .event_id = "ev-1",
                             .time = t0});
    const std::optional<std::vector<herald::Firing>> remembered =
        storage->history().event_firings("ev-1");
    REQUIRE(remembered);
    REQUIRE(remembered->size() == 1);
    CHECK(remembered->front().id == "1");

    // The same id again, with other firings and state: refused, none of it written.
    const herald::Firing again[] = {firing("2", "a", "deploy", t0 + 1s)};
    const herald::TriggerStateChange more[] = {
        {.automation_id = "thr", .run_id = "run-a", .values = {2.0}, .step = 2, .keep = 3}};
    const herald::Error refused = herald::test::error_of([&] {
        storage->record_publish({.firings = again,
                                 .deliveries = {&delivery, 1},
                                 .trigger_state = more,
                                 .event_id = "ev-1",
                                 .time = t0 + 1s});
    });
    CHECK(refused.code() == herald::errc::already_exists);
    CHECK(refused.field() == "event_id");
    CHECK(refused.reason() == "event 'ev-1' was published already");
    CHECK_FALSE(storage->history().find("2"));
    CHECK(storage->outbox().pending_count() == 1);
    CHECK(storage->trigger_state().load({"thr", "run-a"})->values == std::vector<double>{1.0});
    CHECK(storage->history().event_firings("ev-1")->size() == 1);

    // An event that moved only trigger state is remembered with no firings; a record without
    // an id remembers nothing, and the same firings' ids stay refused as before.
    storage->record_publish({.trigger_state = more, .event_id = "ev-2", .time = t0 + 2s});
    CHECK(storage->history().event_firings("ev-2") == std::vector<herald::Firing>{});
    CHECK(herald::test::error_of([&] {
              storage->record_publish({.trigger_state = more, .event_id = "ev-2"});
          }).field() == "event_id");
    storage->record_publish({.firings = again});
    CHECK(storage->history().find("2"));
}

TEST_CASE("of concurrent asynchronous records of one event id exactly one is written",
          "[storage]") {
    auto storage = herald::test::make_storage();
    constexpr int writers = 8;
    std::vector<herald::Firing> fs;
    for (int i = 0; i < writers; ++i)
        fs.push_back(firing("f" + std::to_string(i), "a", "", t0));
    std::mutex mutex;
    std::condition_variable done_cv;
    int done = 0;
    int written = 0;
    int refused = 0;
    for (int i = 0; i < writers; ++i)
        storage->record_publish_async(
            {.firings = {&fs[static_cast<std::size_t>(i)], 1}, .event_id = "ev", .time = t0},
            [&](std::exception_ptr error) {
                const bool duplicate = error && herald::test::error_of([&] {
                                                    std::rethrow_exception(error);
                                                }).field() == "event_id";
                std::lock_guard lock(mutex);
                written += error ? 0 : 1;
                refused += duplicate ? 1 : 0;
                ++done;
                done_cv.notify_all();
            });
    std::unique_lock lock(mutex);
    done_cv.wait(lock, [&] { return done == writers; });
    CHECK(written == 1);
    CHECK(refused == writers - 1);
    herald::HistoryQuery all;
    CHECK(storage->history().query(all).size() == 1);
    CHECK(storage->history().event_firings("ev")->size() == 1);
}

TEST_CASE("record_firings refuses deliveries that do not pair with its firings", "[storage]") {
    auto storage = herald::test::make_storage();
    const herald::Firing fs[] = {firing("1", "a", "deploy", t0), firing("2", "a", "deploy", t0)};
    const auto delivery_for = [](std::size_t index) {
        return herald::NewDelivery{.firing = index,
                                   .action = herald::action::None{},
                                   .trigger = herald::TriggerKind::add_artifact_alias,
                                   .due = t0};
    };

    const herald::NewDelivery beyond[] = {delivery_for(0), delivery_for(2)};
    const herald::Error none = herald::test::error_of([&] { storage->record_firings(fs, beyond); });
    CHECK(none.code() == herald::errc::invalid_argument);
    CHECK(none.field() == "deliveries");
    CHECK(none.reason() == "delivery 1 names firing 2 of 2");

    const herald::NewDelivery twice[] = {delivery_for(1), delivery_for(1)};
    const herald::Error two = herald::test::error_of([&] { storage->record_firings(fs, twice); });
    CHECK(two.code() == herald::errc::invalid_argument);
    CHECK(two.field() == "deliveries");
    CHECK(two.reason() == "firing '2' has two deliveries");

    // Refused before anything is written: neither the firings nor a delivery are recorded.
    CHECK_FALSE(storage->history().find("1"));
    CHECK_FALSE(storage->history().find("2"));
    CHECK(storage->outbox().pending_count() == 0);
}

TEST_CASE("count_firings counts the history by status, every status listed", "[history]") {
    auto storage = herald::test::make_storage();
    check_counts(storage->history());
}

TEST_CASE("the default count_firings counts what query returns", "[history]") {
    auto storage = herald::test::make_storage();
    CountingThroughQuery history(storage->history());
    check_counts(history);
}

TEST_CASE("count_firings counts what a query matches, by status", "[history]") {
    auto storage = herald::test::make_storage();
    check_query_counts(storage->history());
}

TEST_CASE("the default count_firings of a query counts what query returns", "[history]") {
    auto storage = herald::test::make_storage();
    CountingThroughQuery history(storage->history());
    check_query_counts(history);

    // More firings than a page of the default's: every page is counted, each once.
    std::vector<herald::Firing> many;
    for (int i = 0; i < 2001; ++i)
        many.push_back(firing("many-" + std::to_string(i), "many", "", t0 + 1h));
    history.append(many);
    CHECK(history.count_firings({.automation_id = "many"}).front() ==
          std::pair{herald::FiringStatus::pending, std::size_t{2001}});
}
