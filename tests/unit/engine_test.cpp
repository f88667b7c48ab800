#include "support/error_of.hpp"
#include "support/event_builders.hpp"
#include "support/forwarding_storage.hpp"

#include <herald/engine.hpp>
#include <herald/error.hpp>
#include <herald/memory_storage.hpp>

#include <boost/asio/io_context.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <cmath>
#include <functional>
#include <future>
#include <limits>
#include <optional>
#include <span>
#include <thread>
#include <vector>

using namespace herald;
using namespace std::chrono_literals;
using herald::test::admin_of;
using herald::test::alias_added;

namespace {

Automation alias_rule(std::string name, std::string alias = "production") {
    return {.name = std::move(name),
            .scope = Scope::for_project("acme", "mnist"),
            .trigger = trigger::AddArtifactAlias{.alias = Pattern{std::move(alias)}}};
}

Event production() {
    return alias_added("acme", "mnist", "clf", "production");
}

/// Memory automations that say when they change, as those of a database several processes
/// share do (`AutomationStore::revision`).
class RevisionedAutomations final : public AutomationStore {
  public:
    explicit RevisionedAutomations(AutomationStore& inner) : inner_(inner) {}
    void insert(const Automation& a) override { inner_.insert(a), ++revision_; }
    void update(const Automation& a) override { inner_.update(a), ++revision_; }
    bool erase(std::string_view id) override { return ++revision_, inner_.erase(id); }
    std::optional<Automation> find(std::string_view id) const override { return inner_.find(id); }
    std::vector<Automation> all() const override { return inner_.all(); }
    std::optional<std::int64_t> revision() const override { return revision_.load(); }

  private:
    AutomationStore& inner_;
    std::atomic<std::int64_t> revision_{0};
};

/// One store two engines share, as two replicas share a database.
class SharedStorage final : public test::ForwardingStorage {
  public:
    AutomationStore& automations() override { return automations_; }

  private:
    RevisionedAutomations automations_{memory_.automations()};
};

}  // namespace

TEST_CASE("engines sharing a store see each other's automation changes when they refresh",
          "[engine]") {
    auto store = std::make_shared<SharedStorage>();
    Engine a({.storage = store, .refresh_interval = 0ms});
    Engine b({.storage = store, .refresh_interval = 0ms});
    const Principal admin = admin_of("acme");
    CHECK(!b.refresh());

    const Automation made = a.automations().create(admin, alias_rule("watch"));
    CHECK(b.publish(production()).firings.empty());
    CHECK(b.refresh());
    CHECK(b.publish(production()).firings.size() == 1);
    CHECK(!a.refresh());  // its own change is what it holds already

    a.automations().set_enabled(admin, made.id, false);
    CHECK(b.refresh());
    CHECK(b.publish(production()).firings.empty());

    a.automations().set_enabled(admin, made.id, true);
    a.automations().update(admin, made.id, alias_rule("watch", "staging"));
    CHECK(b.refresh());
    CHECK(b.automations().get(admin, made.id).enabled);
    CHECK(b.publish(production()).firings.empty());
    CHECK(b.publish(alias_added("acme", "mnist", "clf", "staging")).firings.size() == 1);

    const Automation second = b.automations().create(admin, alias_rule("second"));
    CHECK(a.refresh());
    a.automations().remove(admin, made.id);
    CHECK(b.refresh());
    CHECK_THROWS_AS(b.automations().get(admin, made.id), Error);
    CHECK(b.automations().get(admin, second.id).name == "second");
    CHECK(!b.refresh());
}

TEST_CASE("an engine on a store only it writes has nothing to refresh", "[engine]") {
    Engine engine;
    engine.automations().create(admin_of("acme"), alias_rule("watch"));
    CHECK(!engine.refresh());
    CHECK_THROWS_AS(Engine({.refresh_interval = -1ms}), Error);
}

TEST_CASE("disabled automations never fire, enabling them again does", "[engine]") {
    Engine engine;
    Automation off = alias_rule("off");
    off.enabled = false;
    const Automation created = engine.automations().create(admin_of("acme"), off);
    CHECK(engine.publish(production()).firings.empty());

    engine.automations().set_enabled(admin_of("acme"), created.id, true);
    CHECK(engine.publish(production()).firings.size() == 1);
    engine.automations().set_enabled(admin_of("acme"), created.id, false);
    CHECK(engine.publish(production()).firings.empty());
}

TEST_CASE("deleting an automation stops new firings and keeps its history", "[engine]") {
    Engine engine;
    const Automation a = engine.automations().create(admin_of("acme"), alias_rule("a"));
    CHECK(engine.publish(production()).firings.size() == 1);
    engine.automations().remove(admin_of("acme"), a.id);
    CHECK(engine.publish(production()).firings.empty());
    CHECK(engine.history().by_automation(a.id).size() == 1);
}

TEST_CASE("an update is visible to the next publish", "[engine]") {
    Engine engine;
    const Automation a = engine.automations().create(admin_of("acme"), alias_rule("a", "staging"));
    CHECK(engine.publish(production()).firings.empty());
    engine.automations().update(admin_of("acme"), a.id, alias_rule("a", "production"));
    CHECK(engine.publish(production()).firings.size() == 1);
}

TEST_CASE("a firing records automation, event, time and reason", "[engine]") {
    auto clock = std::make_shared<ManualClock>(Timestamp{100h});
    Engine engine{{.clock = clock}};
    const Automation a = engine.automations().create(admin_of("acme"), alias_rule("deploy"));
    engine.integrations().create(
        admin_of("acme"),
        WebhookIntegration{
            .entity = "acme", .name = "deploy", .url = "https://ci.example.com/hook"});
    Automation hook = alias_rule("hook");
    hook.action = action::Webhook{.integration = "deploy", .payload = "{}"};
    const Automation h = engine.automations().create(admin_of("acme"), hook);

    clock->advance(5s);
    const PublishReceipt r = engine.publish(production());
    REQUIRE(r.firings.size() == 2);
    CHECK_FALSE(r.event_id.empty());

    const std::vector<Firing> history = engine.history().by_automation(a.id);
    REQUIRE(history.size() == 1);
    const Firing& f = history.front();
    CHECK(f.automation_id == a.id);
    CHECK(f.automation_name == "deploy");
    CHECK(f.event.id == r.event_id);
    CHECK(f.event.time == Timestamp{100h + 5s});
    CHECK(f.time == Timestamp{100h + 5s});
    CHECK(f.reason == "alias 'production' added to acme/mnist/clf:v1 (alias matches 'production')");
    CHECK(f.status == FiringStatus::finished);  // a no-op action is done once recorded
    CHECK(engine.history().by_automation(h.id).front().status == FiringStatus::pending);
}

TEST_CASE("host-supplied event ids and times are kept, history is newest first", "[engine]") {
    Engine engine;
    const Automation a = engine.automations().create(admin_of("acme"), alias_rule("a"));
    for (int i = 0; i < 3; ++i) {
        Event e = production();
        e.id = "evt-" + std::to_string(i);
        e.time = Timestamp{std::chrono::hours{i}};
        CHECK(engine.publish(e).event_id == e.id);
    }
    const auto history = engine.history().by_automation(a.id, 2);
    REQUIRE(history.size() == 2);
    CHECK(history[0].event.id == "evt-2");
    CHECK(history[1].event.id == "evt-1");
    CHECK(history[0].event.time == Timestamp{2h});
}

TEST_CASE("an engine over existing storage resumes its automations", "[engine]") {
    auto storage = std::make_shared<MemoryStorage>();
    std::string id;
    {
        Engine first{{.storage = storage}};
        id = first.automations().create(admin_of("acme"), alias_rule("kept")).id;
    }
    Engine second{{.storage = storage}};
    CHECK(second.automations().get(admin_of("acme"), id).name == "kept");
    CHECK(second.publish(production()).firings.size() == 1);
    CHECK_THROWS(second.automations().create(admin_of("acme"), alias_rule("kept")));
}

TEST_CASE("publish is safe from many threads while automations change", "[engine]") {
    Engine engine;
    const Principal admin = admin_of("acme");
    const Automation stable = engine.automations().create(admin, alias_rule("stable"));
    std::atomic<bool> stop{false};
    std::atomic<std::size_t> fired{0};
    std::vector<std::thread> publishers;
    constexpr int events_per_thread = 2000;
    for (int t = 0; t < 4; ++t)
        publishers.emplace_back([&] {
            for (int i = 0; i < events_per_thread; ++i)
                fired += engine.publish(production()).firings.size();
        });
    std::thread churn([&] {
        for (int i = 0; !stop; ++i) {
            const Automation a =
                engine.automations().create(admin, alias_rule("churn-" + std::to_string(i)));
            engine.automations().remove(admin, a.id);
        }
    });
    for (auto& t : publishers)
        t.join();
    stop = true;
    churn.join();
    // The stable automation fired on every event; churned ones sometimes did too.
    CHECK(engine.history().by_automation(stable.id, 1'000'000).size() == 4 * events_per_thread);
    CHECK(fired >= 4 * events_per_thread);
}

TEST_CASE("publish refuses an event the event format cannot hold, naming the field", "[engine]") {
    Engine engine;
    const auto field_of = [&](EventBody body) {
        try {
            engine.publish(Event{.entity = "acme", .project = "mnist", .body = std::move(body)});
        } catch (const Error& e) {
            CHECK(e.code() == errc::invalid_argument);
            return e.field();
        }
        return std::string("published");
    };
    const Run run{.id = "r1"};
    CHECK(field_of(RunMetricsLogged{run, -1, {{"loss", 0.5}}}) == "step");
    CHECK(field_of(RunMetricsLogged{run, 1, {}}) == "metrics");
    CHECK(field_of(AliasAdded{.version = {.collection = "clf", .index = -2}, .alias = "x"}) ==
          "version.index");
    CHECK(field_of(ArtifactLinked{.version = {.collection = "clf"}, .source = {.index = -1}}) ==
          "source.index");
    CHECK(field_of(RunMetricsLogged{run, 0, {{"loss", std::nan("")}}}) == "published");
}

namespace {

/// Memory storage whose recording of firings fails once `broken` is set.
class BreakableStorage final : public test::ForwardingStorage {
  public:
    bool broken = false;
    void record_publish(const PublishRecord& record) override {
        if (broken)
            throw Error(errc::storage_failure, "", "disk on fire");
        memory_.record_publish(record);
    }
};

}  // namespace

TEST_CASE("async_publish completes on the engine's executor once the firings are recorded",
          "[engine]") {
    boost::asio::io_context io;
    auto storage = std::make_shared<BreakableStorage>();
    Engine engine{io.get_executor(), {.storage = storage}};
    engine.automations().create(admin_of("acme"), alias_rule("deploy"));

    std::vector<PublishReceipt> receipts;
    std::vector<boost::system::error_code> errors;
    const auto record = [&](boost::system::error_code ec, PublishReceipt receipt) {
        errors.push_back(ec);
        receipts.push_back(std::move(receipt));
    };
    engine.async_publish(production(), record);
    engine.async_publish(alias_added("acme", "mnist", "clf", "staging"), record);
    CHECK(receipts.empty());  // never inline
    while (receipts.size() < 2)
        io.run_one_for(1s);
    REQUIRE(receipts.size() == 2);
    CHECK_FALSE(errors[0]);
    REQUIRE(receipts[0].firings.size() == 1);
    CHECK(engine.history().find(receipts[0].firings[0].id));
    CHECK_FALSE(errors[1]);
    CHECK(receipts[1].firings.empty());
    CHECK_FALSE(receipts[1].event_id.empty());

    storage->broken = true;
    engine.async_publish(production(), record);
    Event invalid = production();
    std::get<AliasAdded>(invalid.body).version.index = -1;
    engine.async_publish(invalid, record);
    io.restart();
    io.run_for(1s);
    REQUIRE(errors.size() == 4);
    CHECK(errors[2] == errc::storage_failure);
    CHECK(receipts[2].firings.empty());
    CHECK(errors[3] == errc::invalid_argument);
}

TEST_CASE("a publish that cannot be recorded keeps neither its firing nor its cooldown",
          "[engine]") {
    auto storage = std::make_shared<BreakableStorage>();
    auto clock = std::make_shared<ManualClock>(Timestamp{std::chrono::hours{1000}});
    Engine engine{{.storage = storage, .clock = clock}};
    const std::string id =
        engine.automations()
            .create(admin_of("acme"),
                    Automation{.name = "low-loss",
                               .scope = Scope::for_project("acme", "mnist"),
                               .trigger = trigger::MetricThreshold{.metric = "loss",
                                                                   .window = 1,
                                                                   .comparison = Comparison::less,
                                                                   .threshold = 0.5,
                                                                   .cooldown = 1h},
                               .action = action::None{}})
            .id;
    const Run run{.id = "run-1", .name = "one", .user = "alice"};

    storage->broken = true;
    CHECK(test::error_of([&] {
              engine.publish(test::metrics_logged("mnist", run, "loss", 0.1, 1));
          }).code() == errc::storage_failure);
    CHECK(engine.history().query({}).empty());
    CHECK_FALSE(storage->trigger_state().load({id, run.id}));

    // The cooldown was never recorded, so the same condition fires once the store works; its
    // state is recorded with the firing.
    storage->broken = false;
    clock->advance(1s);
    const PublishReceipt receipt =
        engine.publish(test::metrics_logged("mnist", run, "loss", 0.2, 2));
    REQUIRE(receipt.firings.size() == 1);
    const auto state = storage->trigger_state().load({id, run.id});
    REQUIRE(state);
    CHECK(state->last_fired == clock->now());
    CHECK(state->values == std::vector<double>{0.2});
    CHECK(state->last_step == 2);
}

TEST_CASE("an event published again under its id records nothing and gets the first receipt",
          "[engine]") {
    auto storage = std::make_shared<MemoryStorage>();
    auto metrics = std::make_shared<Metrics>();
    Engine engine{{.storage = storage, .metrics = metrics}};
    engine.automations().create(admin_of("acme"), alias_rule("deploy"));

    Event event = production();
    event.id = "host-event-1";
    const PublishReceipt first = engine.publish(event);
    CHECK_FALSE(first.duplicate);
    REQUIRE(first.firings.size() == 1);

    const PublishReceipt again = engine.publish(event);
    CHECK(again.duplicate);
    CHECK(again.event_id == "host-event-1");
    REQUIRE(again.firings.size() == 1);
    CHECK(again.firings[0].id == first.firings[0].id);
    CHECK(engine.history().query({}).size() == 1);
    CHECK(metrics->snapshot().value("herald_events_duplicate_total") == 1);

    // An event the host gave no id is never taken for another.
    CHECK(engine.publish(production()).firings.size() == 1);
    CHECK(engine.publish(production()).firings.size() == 1);
    CHECK(engine.history().query({}).size() == 3);
}

TEST_CASE("async_publish of an event again completes with the first publish's firings",
          "[engine]") {
    boost::asio::io_context io;
    Engine engine{io.get_executor()};
    engine.automations().create(admin_of("acme"), alias_rule("deploy"));
    Event event = production();
    event.id = "host-event-2";
    std::vector<PublishReceipt> receipts;
    const auto record = [&](boost::system::error_code ec, PublishReceipt receipt) {
        CHECK_FALSE(ec);
        receipts.push_back(std::move(receipt));
    };
    engine.async_publish(event, record);
    engine.async_publish(event, record);
    while (receipts.size() < 2)
        io.run_one_for(1s);
    REQUIRE(receipts[0].firings.size() == 1);
    CHECK_FALSE(receipts[0].duplicate);
    CHECK(receipts[1].duplicate);
    REQUIRE(receipts[1].firings.size() == 1);
    CHECK(receipts[1].firings[0].id == receipts[0].firings[0].id);
    CHECK(engine.history().query({}).size() == 1);
}

namespace {

/// Memory storage that keeps each asynchronous recording's callback until the test takes it.
class HoldingStorage final : public test::ForwardingStorage {
  public:
    std::vector<std::function<void(std::exception_ptr)>> held;
    void record_publish_async(const PublishRecord& record,
                              std::function<void(std::exception_ptr)> done) override {
        memory_.record_publish(record);
        held.push_back(std::move(done));
    }
};

}  // namespace

TEST_CASE("a publish in flight does not own the engine's store", "[engine]") {
    // A store's thread runs and destroys its callbacks; were it left the store's last owner
    // there, the store's destructor would join that thread from itself.
    auto storage = std::make_shared<HoldingStorage>();
    std::optional<Engine> engine(std::in_place, EngineConfig{.storage = storage});
    engine->automations().create(admin_of("acme"), alias_rule("deploy"));
    std::promise<boost::system::error_code> outcome;
    engine->async_publish(
        production(), [&](boost::system::error_code ec, PublishReceipt) { outcome.set_value(ec); });
    REQUIRE(storage->held.size() == 1);
    std::function<void(std::exception_ptr)> done = std::move(storage->held.front());
    storage->held.clear();
    engine.reset();
    const std::weak_ptr<Storage> watched = storage;
    storage.reset();
    CHECK(watched.expired());

    done(nullptr);
    done = nullptr;
    auto completed = outcome.get_future();
    REQUIRE(completed.wait_for(5s) == std::future_status::ready);
    CHECK(completed.get() == boost::system::error_code{});
}

TEST_CASE("a run metric event published again counts its values once", "[engine]") {
    auto storage = std::make_shared<MemoryStorage>();
    Engine engine{{.storage = storage}};
    const std::string id =
        engine.automations()
            .create(admin_of("acme"),
                    Automation{.name = "mean-loss",
                               .scope = Scope::for_project("acme", "mnist"),
                               .trigger = trigger::MetricThreshold{.metric = "loss",
                                                                   .window = 3,
                                                                   .comparison = Comparison::less,
                                                                   .threshold = 0.25,
                                                                   .cooldown = 1h},
                               .action = action::None{}})
            .id;
    const Run run{.id = "run-1", .name = "one", .user = "alice"};
    Event low = test::metrics_logged("mnist", run, "loss", 0.1, 1);
    low.id = "loss-1";
    engine.publish(low);
    CHECK(engine.publish(low).duplicate);
    CHECK(storage->trigger_state().load({id, run.id})->values == std::vector<double>{0.1});
    Event high = test::metrics_logged("mnist", run, "loss", 0.4, 2);
    high.id = "loss-2";
    engine.publish(high);
    CHECK(storage->trigger_state().load({id, run.id})->values == std::vector<double>{0.1, 0.4});
}
