// herald/metrics.hpp — counters, gauges and histograms of what herald does, for Prometheus.
//
// One `Metrics` collects the figures of an engine, its dispatcher and (when handed the same
// instance through `sqlite::Options::metrics`) its SQLite database. `Engine::metrics()` takes
// a snapshot, queue depth read from the store included; `write_prometheus` turns it into the
// Prometheus text format for a host that serves `/metrics` itself:
//
// clang-format off
//     auto metrics = std::make_shared<herald::Metrics>();
//     auto store = herald::sqlite::open("herald.db", {.metrics = metrics});
//     herald::Engine engine{io.get_executor(), {.storage = store, .metrics = metrics}};
//     std::string body = herald::write_prometheus(engine.metrics());   // text/plain; version=0.0.4
// clang-format on
//
// Names follow Prometheus conventions: `herald_` prefix, base units (seconds), `_total` on
// counters. Labels have few values (an event kind, an outcome, a queue state); automation and
// integration ids, entities and URLs are never labels. Recording is lock-free (relaxed atomics):
// a counter costs one uncontended atomic add on the path it counts.
#pragma once

#include <herald/event.hpp>
#include <herald/retention.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace herald {

/// What one attempt, or a delivery that was never attempted, came to.
enum class DeliveryOutcome {
    success,  ///< the endpoint accepted it
    retry,    ///< it failed and is scheduled again
    failed,   ///< it failed for good
    dead,     ///< it failed and its retries are exhausted (a dead letter)
    skipped,  ///< not sent: its integration is disabled
};

/// "success", "retry", "failed", "dead", "skipped".
std::string_view to_string(DeliveryOutcome outcome) noexcept;

/// What the dispatcher tells an operator about (see `herald::OperatorEvent`).
enum class OperatorEventKind {
    integration_failing,   ///< its failing streak crossed 50, 70 or 90 % of `disable_after`
    integration_disabled,  ///< disabled: 410 Gone, or failing for `disable_after`
    retries_exhausted,     ///< a delivery is dead: every attempt of its schedule failed
    breaker_opened,        ///< an endpoint's circuit breaker opened
};

/// "integration_failing", "integration_disabled", "retries_exhausted", "breaker_opened".
std::string_view to_string(OperatorEventKind kind) noexcept;

/// One label of a sample: `{kind="alias_added"}`.
struct MetricLabel {
    std::string name;
    std::string value;
    friend bool operator==(const MetricLabel&, const MetricLabel&) = default;
};

/// A histogram's buckets as Prometheus shows them: cumulative counts per upper bound (the
/// +Inf bucket is `count`).
struct HistogramValue {
    std::vector<double> upper_bounds;
    std::vector<std::uint64_t> cumulative;  ///< one per upper bound
    std::uint64_t count = 0;
    double sum = 0;
};

/// One time series of a family.
struct MetricSample {
    std::vector<MetricLabel> labels;
    double value = 0;          ///< counters and gauges
    HistogramValue histogram;  ///< histograms
};

enum class MetricType { counter, gauge, histogram };

/// A metric and its series. Value type.
struct MetricFamily {
    std::string name;  ///< "herald_deliveries_total"
    std::string help;
    MetricType type = MetricType::counter;
    std::vector<MetricSample> samples;
};

/// Every figure at one moment. Value type.
struct MetricsSnapshot {
    std::vector<MetricFamily> families;

    const MetricFamily* find(std::string_view name) const noexcept;
    /// The value of the counter or gauge `name` with exactly `labels`; nullopt when absent.
    std::optional<double> value(std::string_view name,
                                std::span<const MetricLabel> labels = {}) const;
};

/// Where herald records its figures. Thread-safe: every member may be called from any thread;
/// recording is lock-free. Owned through shared_ptr by the engine and the stores it is given
/// to. A host may read `snapshot()` at any time; the recording members are herald's.
class Metrics {
  public:
    Metrics();
    ~Metrics();
    Metrics(const Metrics&) = delete;
    Metrics& operator=(const Metrics&) = delete;

    // What herald records.
    void event_published(EventKind kind) noexcept;
    /// An event published again under an id already recorded (`PublishReceipt::duplicate`).
    void duplicate_published() noexcept;
    void firings_recorded(std::size_t count) noexcept;
    void delivery_settled(DeliveryOutcome outcome) noexcept;
    /// How long one attempt (a request, or a job submission) took.
    void attempt_finished(std::chrono::nanoseconds latency) noexcept;
    /// From the firing's publish to its successful delivery.
    void delivered(std::chrono::nanoseconds since_publish) noexcept;
    void ssrf_refused() noexcept;
    void integration_disabled() noexcept;
    void operator_event(OperatorEventKind kind) noexcept;
    void storage_failed() noexcept;
    /// A delivery's lease was found held by another claim (its outcome here not recorded).
    void lease_lost() noexcept;
    void breakers_opened(int delta) noexcept;       ///< +1 opened, -1 closed
    void endpoints_tracked(int delta) noexcept;     ///< +1 tracked, -1 forgotten
    void deliveries_in_flight(int delta) noexcept;  ///< held by a dispatcher
    /// A group commit of `writes` writes; `fsync` when it was synced (SQLite).
    void group_committed(std::size_t writes) noexcept;
    void fsynced(std::chrono::nanoseconds duration) noexcept;
    /// What a pruning pass took away.
    void pruned(const PruneResult& result) noexcept;

    /// The figures recorded so far (queue depth in the store is `Engine::metrics`' to add).
    MetricsSnapshot snapshot() const;

  private:
    struct State;
    std::unique_ptr<State> state_;
};

/// `snapshot` in the Prometheus text exposition format, version 0.0.4 (`# HELP`, `# TYPE`,
/// one line per sample, histograms as `_bucket{le=...}`, `_sum`, `_count`), ending in a newline.
std::string write_prometheus(const MetricsSnapshot& snapshot);

}  // namespace herald
