// Watched run metric events, durably: `Engine::async_publish` of run-metric events in a project
// that `automations` threshold automations watch (window 5, a threshold no value meets, so
// nothing fires: every event's cost is matching, evaluating and recording its windows). Each
// event logs `values` values of the watched metric for one of 100 runs, steps rising; at most
// 4,096 publishes are unanswered at once, and the clock stops once every one is durable.
//
//   bench_watched --storage sqlite --automations 1 --values 1 --events 200000
//
// --storage sqlite    a fresh database file in a temporary folder, default options
//                     (synchronous FULL, group commit)
// --storage memory    MemoryStorage
// --storage postgres  a fresh schema (bench_watched_<pid>) in the database --postgres names
//
// Prints one line of `key=value` pairs: events/s, values/s, and the process's CPU time per event.
#include "bench_storage.hpp"
#include "flags.hpp"
#include "process_usage.hpp"
#include "publish_window.hpp"

#include <herald/engine.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

namespace {

struct Options {
    herald::bench::StorageChoice storage;
    std::size_t automations = 1;
    std::size_t values = 1;
    std::size_t events = 200'000;
};

[[noreturn]] void usage(const std::string& why) {
    std::cerr << "bench_watched: " << why
              << "\nusage: bench_watched [--storage sqlite|memory|postgres] [--postgres CONNINFO] "
                 "[--automations N] [--values N] [--events N]\n";
    std::exit(2);
}

Options parse(int argc, char** argv) {
    Options o;
    herald::bench::for_each_flag(
        argc, argv,
        [&](const std::string& flag, const std::string& value) {
            if (o.storage.take(flag, value))
                return;
            if (flag == "--automations")
                o.automations = std::stoul(value);
            else if (flag == "--values")
                o.values = std::stoul(value);
            else if (flag == "--events")
                o.events = std::stoul(value);
            else
                usage("unknown flag " + flag);
        },
        usage);
    if (const std::string problem = o.storage.problem(); !problem.empty())
        usage(problem);
    if (o.automations == 0 || o.values == 0 || o.events == 0)
        usage("--automations, --values and --events must be positive");
    return o;
}

constexpr std::size_t runs = 100;

/// Event `i`: `values` values of "loss" for run i % 100, at step i / 100.
herald::Event metrics_event(std::size_t i, std::size_t values) {
    const std::string run = "run-" + std::to_string(i % runs);
    herald::RunMetricsLogged body{.run = {.id = run, .name = run, .user = "alice"},
                                  .step = static_cast<std::int64_t>(i / runs)};
    for (std::size_t v = 0; v < values; ++v)
        body.metrics.push_back(
            {.name = "loss", .value = 0.5 + static_cast<double>((i + v) % 97) / 1000.0});
    return {.author = "alice", .entity = "acme", .project = "mnist", .body = std::move(body)};
}

}  // namespace

int main(int argc, char** argv) {
    const Options options = parse(argc, argv);
    herald::bench::BenchStorage bench(options.storage, "bench_watched");
    const std::shared_ptr<herald::Storage> storage = bench.storage;

    auto engine = std::make_unique<herald::Engine>(herald::EngineConfig{.storage = storage});
    const herald::Principal admin{.user = "admin", .roles = {herald::Role::entity_admin("acme")}};
    std::string first_id;
    for (std::size_t a = 0; a < options.automations; ++a) {
        const std::string id =
            engine->automations()
                .create(admin,
                        herald::Automation{.name = "low-loss-" + std::to_string(a),
                                           .scope = herald::Scope::for_project("acme", "mnist"),
                                           .trigger =
                                               herald::trigger::MetricThreshold{
                                                   .metric = "loss",
                                                   .window = 5,
                                                   .comparison = herald::Comparison::less,
                                                   .threshold = -1.0 - static_cast<double>(a)},
                                           .action = herald::action::None{}})
                .id;
        if (first_id.empty())
            first_id = id;
    }

    const auto started = std::chrono::steady_clock::now();
    const double cpu_before = herald::bench::process_cpu_seconds();
    herald::bench::publish_all(*engine, options.events, 4096,
                               [&](std::size_t i) { return metrics_event(i, options.values); });
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const double cpu = herald::bench::process_cpu_seconds() - cpu_before;

    // What was recorded: each run's window holds its last five values.
    const auto state =
        storage->trigger_state().load({.automation_id = first_id, .run_id = "run-0"});
    const std::size_t window = state ? state->values.size() : 0;
    engine.reset();

    const auto events = static_cast<double>(options.events);
    std::printf(
        "storage=%s automations=%zu values=%zu events=%zu seconds=%.3f events_per_s=%.0f "
        "values_per_s=%.0f cpu_us_per_event=%.2f run0_window=%zu\n",
        options.storage.kind.c_str(), options.automations, options.values, options.events, seconds,
        events / seconds, events * static_cast<double>(options.values) / seconds,
        cpu * 1e6 / events, window);
    return window == 5 ? 0 : 1;
}
