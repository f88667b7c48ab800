// TriggerStateStore (herald/trigger_state_store.hpp), against the backend under test.
#include "support/test_storage.hpp"

#include <herald/trigger_state_store.hpp>

#include <catch2/catch.hpp>

#include <chrono>

using namespace herald;
using namespace std::chrono_literals;

TEST_CASE("trigger state store: appends keep the newest values of each key", "[metrics]") {
    auto storage = herald::test::make_storage();
    TriggerStateStore& store = storage->trigger_state();
    const TriggerStateKey a{.automation_id = "auto-1", .run_id = "run-a"};
    const TriggerStateKey b{.automation_id = "auto-1", .run_id = "run-b"};
    CHECK_FALSE(store.load(a));

    const double first[] = {1, 2, 3};
    store.append_values(a, first, 7, 4);
    const double second[] = {4, 5};
    store.append_values(a, second, 8, 4);
    store.append_values(b, second, 1, 1);
    CHECK(store.load(a) == RunTriggerState{.values = {2, 3, 4, 5}, .last_step = 8});
    CHECK(store.load(b) == RunTriggerState{.values = {5}, .last_step = 1});

    for (int i = 0; i < 100; ++i) {
        const double v[] = {double(i)};
        store.append_values(a, v, 9 + i, 4);
    }
    CHECK(store.load(a)->values == std::vector<double>{96, 97, 98, 99});
}

TEST_CASE("trigger state store: firings, and dropping runs and automations", "[metrics]") {
    auto storage = herald::test::make_storage();
    TriggerStateStore& store = storage->trigger_state();
    const TriggerStateKey a{.automation_id = "auto-1", .run_id = "run-a"};
    const TriggerStateKey b{.automation_id = "auto-1", .run_id = "run-b"};
    const TriggerStateKey other{.automation_id = "auto-2", .run_id = "run-a"};
    const Timestamp t{std::chrono::hours{5}};
    store.record_firing(a, t);
    CHECK(store.load(a) == RunTriggerState{.last_fired = t});
    const double v[] = {1};
    store.append_values(a, v, 3, 2);
    store.append_values(b, v, 3, 2);
    store.append_values(other, v, 3, 2);
    CHECK(store.load(a) == RunTriggerState{.values = {1}, .last_step = 3, .last_fired = t});

    store.erase_run(a);
    CHECK_FALSE(store.load(a));
    CHECK(store.load(b));
    store.erase_automation("auto-1");
    CHECK_FALSE(store.load(b));
    CHECK(store.load(other));
    store.erase_run(a);  // nothing left to drop: no effect
    store.erase_automation("auto-9");
    CHECK(store.load(other));
}

namespace {

/// A store of the backend under test and three keys: two runs of one automation, one of another.
struct Keys {
    std::shared_ptr<Storage> storage = herald::test::make_storage();
    TriggerStateStore& store = storage->trigger_state();
    const TriggerStateKey a{.automation_id = "auto-1", .run_id = "run-a"};
    const TriggerStateKey b{.automation_id = "auto-1", .run_id = "run-b"};
    const TriggerStateKey other{.automation_id = "auto-2", .run_id = "run-a"};
    const Timestamp t{std::chrono::hours{5}};
};

}  // namespace

TEST_CASE("trigger state store: where a condition stands, kept beside values and firings",
          "[metrics]") {
    Keys k;
    auto& [storage, store, a, fresh, other, t] = k;
    const ConditionProgress pending{
        .state = ConditionState::pending, .streak = 2, .holding_since = t};
    store.save_condition(fresh, pending);
    CHECK(store.load(fresh) == RunTriggerState{.condition = pending});

    const double v[] = {1, 2};
    store.append_values(a, v, 3, 4);
    store.record_firing(a, t + 1s);
    const ConditionProgress recovering{
        .state = ConditionState::recovering, .streak = 3, .holding_since = t, .fired = true};
    store.save_condition(a, recovering);
    store.append_values(a, v, 4, 4);
    CHECK(store.load(a) == RunTriggerState{.values = {1, 2, 1, 2},
                                           .last_step = 4,
                                           .last_fired = t + 1s,
                                           .condition = recovering});
    store.save_condition(a, {});
    CHECK(store.load(a)->condition == ConditionProgress{});
    store.erase_run(a);
    CHECK_FALSE(store.load(a));
}

TEST_CASE("trigger state store: restarting an automation's windows keeps its firings",
          "[metrics]") {
    Keys k;
    auto& [storage, store, a, b, other, t] = k;
    const double v[] = {1, 2};
    for (const TriggerStateKey& k : {a, b, other}) {
        store.append_values(k, v, 3, 4);
        store.save_condition(k, {.state = ConditionState::firing, .streak = 1, .fired = true});
    }
    store.record_firing(a, t);
    store.restart_windows("auto-1");
    CHECK(store.load(a) == RunTriggerState{.last_step = 3, .last_fired = t});
    CHECK(store.load(b) == RunTriggerState{.last_step = 3});
    CHECK(store.load(other)->values == std::vector<double>{1, 2});
    // Appending after the restart starts a new window.
    const double w[] = {7};
    store.append_values(a, w, 4, 4);
    CHECK(store.load(a)->values == std::vector<double>{7});
}

TEST_CASE("trigger state store: a population keeps the most recently updated runs", "[metrics]") {
    Keys k;
    TriggerStateStore& store = k.store;
    CHECK(store.load_population("auto-1").empty());
    store.put_population_value("auto-1", "run-a", 1, 3);
    store.put_population_value("auto-1", "run-b", 2, 3);
    store.put_population_value("auto-1", "run-a", 3, 3);  // run a becomes the newest
    store.put_population_value("auto-1", "run-c", 4, 3);
    store.put_population_value("auto-2", "run-a", 9, 3);
    CHECK(store.load_population("auto-1") ==
          std::vector<PopulationValue>{{"run-b", 2}, {"run-a", 3}, {"run-c", 4}});
    for (int i = 0; i < 5; ++i)
        store.put_population_value("auto-1", "run-a", 10 + i, 3);  // updates do not evict
    store.put_population_value("auto-1", "run-d", 5, 3);           // a new run does
    CHECK(store.load_population("auto-1") ==
          std::vector<PopulationValue>{{"run-c", 4}, {"run-a", 14}, {"run-d", 5}});
    store.restart_windows("auto-1");
    CHECK(store.load_population("auto-1").empty());
    CHECK(store.load_population("auto-2").size() == 1);
    store.erase_automation("auto-2");
    CHECK(store.load_population("auto-2").empty());
}
