// herald/prometheus/collector.hpp — herald's figures in a host's prometheus-cpp exposition.
//
// A `Collector` is a `prometheus::Collectable` that reads a `MetricsSnapshot` whenever it is
// scraped; the host registers it next to its own registries:
//
// clang-format off
//     auto collector = std::make_shared<herald::prometheus::Collector>(
//         [&engine] { return engine.metrics(); });
//     exposer.RegisterCollectable(collector);   // a prometheus::Exposer; or serialize it yourself
// clang-format on
//
// The families, names, labels and values are those of `write_prometheus` (metrics.hpp). Requires
// the `herald::prometheus` target (prometheus-cpp, Debian `prometheus-cpp-dev`).
#pragma once

#include <herald/metrics.hpp>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <functional>
#include <vector>

namespace herald::prometheus {

/// Converts `snapshot` into prometheus-cpp's families.
std::vector<::prometheus::MetricFamily> families_of(const MetricsSnapshot& snapshot);

/// A collectable over a snapshot source (typically `Engine::metrics`). Thread-safe when the
/// source is: prometheus-cpp calls `Collect` from its scraping thread.
class Collector final : public ::prometheus::Collectable {
  public:
    using Source = std::function<MetricsSnapshot()>;

    explicit Collector(Source source) : source_(std::move(source)) {}

    /// The source's snapshot now; a source that throws (the store cannot be read) gives no
    /// families rather than a failed scrape.
    std::vector<::prometheus::MetricFamily> Collect() const override;

  private:
    Source source_;
};

}  // namespace herald::prometheus
