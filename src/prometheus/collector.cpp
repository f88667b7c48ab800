#include <herald/prometheus/collector.hpp>

#include <prometheus/client_metric.h>
#include <prometheus/metric_type.h>

namespace herald::prometheus {

std::vector<::prometheus::MetricFamily> families_of(const MetricsSnapshot& snapshot) {
    std::vector<::prometheus::MetricFamily> out;
    for (const MetricFamily& f : snapshot.families) {
        ::prometheus::MetricFamily family{.name = f.name, .help = f.help};
        switch (f.type) {
            case MetricType::counter:
                family.type = ::prometheus::MetricType::Counter;
                break;
            case MetricType::gauge:
                family.type = ::prometheus::MetricType::Gauge;
                break;
            case MetricType::histogram:
                family.type = ::prometheus::MetricType::Histogram;
                break;
        }
        for (const MetricSample& s : f.samples) {
            ::prometheus::ClientMetric metric;
            for (const MetricLabel& l : s.labels)
                metric.label.push_back({.name = l.name, .value = l.value});
            metric.counter.value = s.value;
            metric.gauge.value = s.value;
            if (f.type == MetricType::histogram) {
                metric.histogram.sample_count = s.histogram.count;
                metric.histogram.sample_sum = s.histogram.sum;
                // prometheus-cpp writes the +Inf bucket from the sample count.
                for (std::size_t i = 0; i < s.histogram.upper_bounds.size(); ++i)
                    metric.histogram.bucket.push_back(
                        {.cumulative_count = s.histogram.cumulative[i],
                         .upper_bound = s.histogram.upper_bounds[i]});
            }
            family.metric.push_back(std::move(metric));
        }
        out.push_back(std::move(family));
    }
    return out;
}

std::vector<::prometheus::MetricFamily> Collector::Collect() const {
    try {
        return families_of(source_());
    } catch (const std::exception&) {
        return {};
    }
}

}  // namespace herald::prometheus
