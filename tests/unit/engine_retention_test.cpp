// Retention through the engine: `Engine::prune`, the engine's own schedule, and what both log
// and count.
#include "support/error_of.hpp"
#include "support/event_builders.hpp"
#include "support/flaky_storage.hpp"
#include "support/log_capture.hpp"

#include <herald/engine.hpp>
#include <herald/error.hpp>
#include <herald/memory_storage.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <thread>

using namespace herald;
using namespace std::chrono_literals;
using herald::test::admin_of;
using herald::test::error_of;

namespace {

const Timestamp start{std::chrono::hours{24 * 365 * 56}};

Automation alias_rule() {
    return {.name = "promote",
            .scope = Scope::for_project("acme", "mnist"),
            .trigger = trigger::AddArtifactAlias{.alias = Pattern{"production"}}};
}

void publish(Engine& engine, int count) {
    for (int i = 0; i < count; ++i)
        engine.publish(test::alias_added("acme", "mnist", "clf", "production"));
}

std::size_t firings(Engine& engine) {
    std::size_t n = 0;
    for (const auto& [status, count] : engine.history().count_firings())
        n += count;
    return n;
}

/// Waits up to 20 s for `done()`.
template <class Done>
bool eventually(Done done) {
    for (auto deadline = std::chrono::steady_clock::now() + 20s;
         std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(5ms))
        if (done())
            return true;
    return done();
}

}  // namespace

TEST_CASE("an engine refuses a retention policy out of range", "[engine][retention]") {
    auto field_of = [](RetentionPolicy policy) {
        const Error e = error_of([&] { Engine engine{{.retention = policy}}; });
        CHECK(e.code() == errc::invalid_argument);
        return e.field();
    };
    CHECK(field_of({.history = 0s}) == "retention.history");
    CHECK(field_of({.dead_letters = -1s}) == "retention.dead_letters");
    CHECK(field_of({.bodies = 0s}) == "retention.bodies");
    CHECK(field_of({.interval = 0s}) == "retention.interval");
    CHECK(field_of({.batch = 0}) == "retention.batch");
}

TEST_CASE("Engine::prune takes what the policy no longer keeps, and logs and counts it",
          "[engine][retention]") {
    auto clock = std::make_shared<ManualClock>(start);
    test::LogCapture logs;
    Engine engine{{.clock = clock, .logger = logs.logger()}};
    engine.automations().create(admin_of("acme"), alias_rule());
    publish(engine, 5);  // no action: finished once recorded
    clock->advance(std::chrono::days{31});
    publish(engine, 2);

    // No policy configured: the default keeps 30 days.
    const PruneResult r = engine.prune();
    CHECK(r.firings == 5);
    CHECK(r.dead_letters == 0);
    CHECK(firings(engine) == 2);
    const MetricsSnapshot m = engine.metrics();
    const MetricLabel pruned_firings[] = {{"kind", "firing"}};
    CHECK(m.value("herald_pruned_total", pruned_firings) == 5);
    const auto records = logs.of("retention.pruned");
    REQUIRE(records.size() == 1);
    CHECK(records.front().fields.at("firings") == "5");
    CHECK(records.front().fields.at("dead_letters") == "0");

    // Nothing more to take: counted as nothing, and not logged.
    CHECK(engine.prune().firings == 0);
    CHECK(logs.of("retention.pruned").size() == 1);
}

TEST_CASE("an engine with a retention policy prunes on its own schedule", "[engine][retention]") {
    auto clock = std::make_shared<ManualClock>(start);
    auto storage = std::make_shared<MemoryStorage>();
    {
        Engine engine{{.storage = storage, .clock = clock}};
        engine.automations().create(admin_of("acme"), alias_rule());
        publish(engine, 4);
    }
    clock->advance(2h);
    Engine engine{{.storage = storage,
                   .clock = clock,
                   .retention = RetentionPolicy{.history = 1h, .interval = 1s}}};
    publish(engine, 1);
    // The first pass runs as the engine starts (and may meet the new firing or not); the
    // older four go by the second pass at the latest.
    CHECK(eventually([&] { return firings(engine) == 1; }));
}

TEST_CASE("a pruning pass that fails is logged and counted, and the schedule goes on",
          "[engine][retention]") {
    auto flaky = std::make_shared<test::FlakyStorage>(std::make_shared<MemoryStorage>());
    flaky->fail_prunes = true;
    test::LogCapture logs;
    {
        Engine engine{{.storage = flaky,
                       .logger = logs.logger(),
                       .retention = RetentionPolicy{.interval = 1s}}};
        REQUIRE(eventually([&] { return flaky->prunes >= 2; }));
        CHECK(engine.metrics().value("herald_storage_errors_total") >= 2);
        CHECK(error_of([&] { engine.prune(); }).code() == errc::storage_failure);
    }
    const auto failures = logs.of("retention.failed");
    REQUIRE(failures.size() >= 2);
    CHECK(failures.front().level == LogLevel::error);
    CHECK(!failures.front().fields.at("reason").empty());
}
