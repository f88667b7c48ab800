// What counting costs per delivery: the Metrics calls the engine and the dispatcher make for one
// published event that fires one webhook delivered at the first attempt, and the logger's level
// check on that path (nothing is logged on success). One thread, and two threads recording into
// one Metrics at once (a publishing thread and the dispatcher's). Compare with the pipeline's CPU
// time per delivery (BENCHMARKS.md).
//
//   bench_observe --benchmark_min_time=1
#include <herald/logger.hpp>
#include <herald/metrics.hpp>

#include <benchmark/benchmark.h>

#include <chrono>

namespace {

using namespace std::chrono_literals;

herald::Metrics& shared_metrics() {
    static herald::Metrics metrics;
    return metrics;
}

void BM_RecordOneDelivery(benchmark::State& state) {
    herald::Metrics& m = shared_metrics();
    const herald::Logger logger(herald::LogLevel::info, [](const herald::LogRecord&) {});
    std::int64_t latency = 1'000'000;
    for (auto _ : state) {
        m.event_published(herald::EventKind::alias_added);
        m.firings_recorded(1);
        m.deliveries_in_flight(1);
        m.attempt_finished(std::chrono::nanoseconds{latency});
        m.delivery_settled(herald::DeliveryOutcome::success);
        m.delivered(std::chrono::nanoseconds{latency * 3});
        m.deliveries_in_flight(-1);
        benchmark::DoNotOptimize(logger.enabled(herald::LogLevel::debug));
        latency = latency * 7 % 900'000'000 + 1;  // spread over the buckets
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RecordOneDelivery)->Threads(1)->Threads(2)->UseRealTime();

void BM_Snapshot(benchmark::State& state) {
    for (auto _ : state)
        benchmark::DoNotOptimize(herald::write_prometheus(shared_metrics().snapshot()));
}
BENCHMARK(BM_Snapshot);

}  // namespace

BENCHMARK_MAIN();
