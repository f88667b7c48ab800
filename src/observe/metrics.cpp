#include <herald/metrics.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <initializer_list>

namespace herald {

namespace {

constexpr auto relaxed = std::memory_order_relaxed;

/// Observations against fixed upper bounds, in the unit the bounds are in (nanoseconds for
/// durations, a count for sizes); shown in `scale` units (seconds: 1e-9).
class Histogram {
  public:
    Histogram(std::initializer_list<double> bounds, double scale) : scale_(scale) {
        for (double b : bounds) {
            shown_[size_] = b;
            bounds_[size_++] = static_cast<std::uint64_t>(b / scale + 0.5);
        }
    }

    void observe(std::uint64_t value) noexcept {
        std::size_t i = 0;
        while (i < size_ && value > bounds_[i])
            ++i;
        buckets_[i].fetch_add(1, relaxed);
        sum_.fetch_add(value, relaxed);
    }

    HistogramValue read() const {
        HistogramValue v;
        std::uint64_t running = 0;
        for (std::size_t i = 0; i < size_; ++i) {
            running += buckets_[i].load(relaxed);
            v.upper_bounds.push_back(shown_[i]);
            v.cumulative.push_back(running);
        }
        v.count = running + buckets_[size_].load(relaxed);
        v.sum = static_cast<double>(sum_.load(relaxed)) * scale_;
        return v;
    }

  private:
    static constexpr std::size_t max_bounds = 16;
    std::array<std::uint64_t, max_bounds> bounds_{};
    std::array<double, max_bounds> shown_{};  ///< the bounds as given
    std::size_t size_ = 0;
    double scale_;
    std::array<std::atomic<std::uint64_t>, max_bounds + 1> buckets_{};  ///< the last: +Inf
    std::atomic<std::uint64_t> sum_{0};
};

std::uint64_t nanoseconds(std::chrono::nanoseconds d) noexcept {
    return d.count() > 0 ? static_cast<std::uint64_t>(d.count()) : 0;
}

constexpr double ns = 1e-9;

MetricSample sample(double value, std::vector<MetricLabel> labels = {}) {
    return MetricSample{.labels = std::move(labels), .value = value};
}

MetricSample histogram_sample(HistogramValue value) {
    return MetricSample{.histogram = std::move(value)};
}

std::string number(double value) {
    if (value == static_cast<double>(static_cast<std::int64_t>(value)) && value < 1e15 &&
        value > -1e15)
        return std::to_string(static_cast<std::int64_t>(value));
    char buffer[32];
    const auto written = std::to_chars(buffer, buffer + sizeof buffer, value);  // shortest
    return std::string(buffer, written.ptr);
}

void append_escaped(std::string& out, std::string_view text, bool quote) {
    for (const char c : text) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else if (c == '"' && quote)
            out += "\\\"";
        else
            out += c;
    }
}

void append_labels(std::string& out, const std::vector<MetricLabel>& labels,
                   const MetricLabel* extra = nullptr) {
    if (labels.empty() && !extra)
        return;
    out += '{';
    bool first = true;
    const auto one = [&](const MetricLabel& l) {
        if (!first)
            out += ',';
        first = false;
        out += l.name;
        out += "=\"";
        append_escaped(out, l.value, true);
        out += '"';
    };
    for (const MetricLabel& l : labels)
        one(l);
    if (extra)
        one(*extra);
    out += '}';
}

}  // namespace

std::string_view to_string(DeliveryOutcome outcome) noexcept {
    static constexpr std::array<std::string_view, 5> names = {"success", "retry", "failed", "dead",
                                                              "skipped"};
    return names[static_cast<std::size_t>(outcome)];
}

std::string_view to_string(OperatorEventKind kind) noexcept {
    static constexpr std::array<std::string_view, 4> names = {
        "integration_failing", "integration_disabled", "retries_exhausted", "breaker_opened"};
    return names[static_cast<std::size_t>(kind)];
}

struct Metrics::State {
    std::array<std::atomic<std::uint64_t>, event_kind_count> events{};
    std::atomic<std::uint64_t> firings{0};
    std::array<std::atomic<std::uint64_t>, 5> deliveries{};
    std::atomic<std::uint64_t> ssrf_refusals{0};
    std::atomic<std::uint64_t> integrations_disabled{0};
    std::array<std::atomic<std::uint64_t>, 4> operator_events{};
    std::atomic<std::uint64_t> storage_errors{0};
    std::atomic<std::uint64_t> leases_lost{0};
    std::atomic<std::int64_t> open_breakers{0};
    std::atomic<std::int64_t> endpoints{0};
    std::atomic<std::int64_t> in_flight{0};
    std::array<std::atomic<std::uint64_t>, 4> pruned{};  ///< firings, dead letters, bodies, ids
    std::atomic<std::uint64_t> duplicates{0};
    Histogram attempt{{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}, ns};
    Histogram delivered{{0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800, 3600, 36000}, ns};
    Histogram batch{{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024}, 1};
    Histogram fsync{{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1}, ns};
};

Metrics::Metrics() : state_(std::make_unique<State>()) {}
Metrics::~Metrics() = default;

void Metrics::event_published(EventKind kind) noexcept {
    state_->events[static_cast<std::size_t>(kind)].fetch_add(1, relaxed);
}
void Metrics::duplicate_published() noexcept {
    state_->duplicates.fetch_add(1, relaxed);
}
void Metrics::firings_recorded(std::size_t count) noexcept {
    state_->firings.fetch_add(count, relaxed);
}
void Metrics::delivery_settled(DeliveryOutcome outcome) noexcept {
    state_->deliveries[static_cast<std::size_t>(outcome)].fetch_add(1, relaxed);
}
void Metrics::attempt_finished(std::chrono::nanoseconds latency) noexcept {
    state_->attempt.observe(nanoseconds(latency));
}
void Metrics::delivered(std::chrono::nanoseconds since_publish) noexcept {
    state_->delivered.observe(nanoseconds(since_publish));
}
void Metrics::ssrf_refused() noexcept {
    state_->ssrf_refusals.fetch_add(1, relaxed);
}
void Metrics::integration_disabled() noexcept {
    state_->integrations_disabled.fetch_add(1, relaxed);
}
void Metrics::operator_event(OperatorEventKind kind) noexcept {
    state_->operator_events[static_cast<std::size_t>(kind)].fetch_add(1, relaxed);
}
void Metrics::storage_failed() noexcept {
    state_->storage_errors.fetch_add(1, relaxed);
}
void Metrics::lease_lost() noexcept {
    state_->leases_lost.fetch_add(1, relaxed);
}
void Metrics::breakers_opened(int delta) noexcept {
    state_->open_breakers.fetch_add(delta, relaxed);
}
void Metrics::endpoints_tracked(int delta) noexcept {
    state_->endpoints.fetch_add(delta, relaxed);
}
void Metrics::deliveries_in_flight(int delta) noexcept {
    state_->in_flight.fetch_add(delta, relaxed);
}
void Metrics::group_committed(std::size_t writes) noexcept {
    state_->batch.observe(writes);
}
void Metrics::fsynced(std::chrono::nanoseconds duration) noexcept {
    state_->fsync.observe(nanoseconds(duration));
}
void Metrics::pruned(const PruneResult& result) noexcept {
    state_->pruned[0].fetch_add(result.firings, relaxed);
    state_->pruned[1].fetch_add(result.dead_letters, relaxed);
    state_->pruned[2].fetch_add(result.bodies, relaxed);
    state_->pruned[3].fetch_add(result.event_ids, relaxed);
}

MetricsSnapshot Metrics::snapshot() const {
    const State& s = *state_;
    const auto load = [](const auto& atomic) { return static_cast<double>(atomic.load(relaxed)); };
    MetricsSnapshot out;
    const auto add = [&](std::string name, std::string help, MetricType type,
                         std::vector<MetricSample> samples) {
        out.families.push_back(MetricFamily{.name = std::move(name),
                                            .help = std::move(help),
                                            .type = type,
                                            .samples = std::move(samples)});
    };
    constexpr auto counter = MetricType::counter;
    constexpr auto gauge = MetricType::gauge;
    constexpr auto histogram = MetricType::histogram;

    std::vector<MetricSample> events;
    for (std::size_t k = 0; k < event_kind_count; ++k)
        events.push_back(sample(load(s.events[k]),
                                {{"kind", std::string(to_string(static_cast<EventKind>(k)))}}));
    add("herald_events_published_total", "Events published, by kind.", counter, std::move(events));
    add("herald_events_duplicate_total",
        "Events published again under an id already recorded: nothing was recorded again.", counter,
        {sample(load(s.duplicates))});
    add("herald_firings_total", "Firings recorded (automations that matched).", counter,
        {sample(load(s.firings))});
    std::vector<MetricSample> deliveries;
    for (std::size_t o = 0; o < s.deliveries.size(); ++o)
        deliveries.push_back(
            sample(load(s.deliveries[o]),
                   {{"outcome", std::string(to_string(static_cast<DeliveryOutcome>(o)))}}));
    add("herald_deliveries_total", "Delivery attempts and unsent deliveries, by outcome.", counter,
        std::move(deliveries));
    add("herald_delivery_attempt_duration_seconds",
        "How long one attempt (request or job submission) took.", histogram,
        {histogram_sample(s.attempt.read())});
    add("herald_delivery_latency_seconds",
        "From an event's publish to its firing's successful delivery.", histogram,
        {histogram_sample(s.delivered.read())});
    add("herald_deliveries_in_flight",
        "Deliveries the dispatcher holds (sending or waiting for an endpoint).", gauge,
        {sample(load(s.in_flight))});
    add("herald_circuit_breakers_open", "Endpoints whose circuit breaker is open or half-open.",
        gauge, {sample(load(s.open_breakers))});
    add("herald_endpoints_tracked",
        "Endpoints the dispatcher keeps state for: with deliveries under way or waiting, or a "
        "circuit breaker that remembers failures.",
        gauge, {sample(load(s.endpoints))});
    add("herald_integrations_disabled_total",
        "Integrations the dispatcher disabled (410 Gone, or failing too long).", counter,
        {sample(load(s.integrations_disabled))});
    std::vector<MetricSample> operator_events;
    for (std::size_t k = 0; k < s.operator_events.size(); ++k)
        operator_events.push_back(
            sample(load(s.operator_events[k]),
                   {{"kind", std::string(to_string(static_cast<OperatorEventKind>(k)))}}));
    add("herald_operator_events_total",
        "What the dispatcher told an operator about (on_operator_event), by kind.", counter,
        std::move(operator_events));
    add("herald_pruned_total",
        "What retention took away: settled firings, dead letters (each with its firing), "
        "firings whose payload and response bodies were expunged, and remembered ids of "
        "published events.",
        counter,
        {sample(load(s.pruned[0]), {{"kind", "firing"}}),
         sample(load(s.pruned[1]), {{"kind", "dead_letter"}}),
         sample(load(s.pruned[2]), {{"kind", "body"}}),
         sample(load(s.pruned[3]), {{"kind", "event_id"}})});
    add("herald_ssrf_refusals_total", "Requests refused by the SSRF policy before they were sent.",
        counter, {sample(load(s.ssrf_refusals))});
    add("herald_storage_errors_total",
        "Store operations that failed: the dispatcher's claims and settlements (retried), "
        "pruning passes and automation refreshes.",
        counter, {sample(load(s.storage_errors))});
    add("herald_leases_lost_total",
        "Deliveries whose lease another claim took while this process still worked on them "
        "(it stalled longer than the lease); what it learned of them was not recorded.",
        counter, {sample(load(s.leases_lost))});
    add("herald_group_commit_writes",
        "Writes committed together in one transaction (SQLite, PostgreSQL).", histogram,
        {histogram_sample(s.batch.read())});
    add("herald_fsync_duration_seconds", "How long one fsync of the write-ahead log took (SQLite).",
        histogram, {histogram_sample(s.fsync.read())});
    return out;
}

const MetricFamily* MetricsSnapshot::find(std::string_view name) const noexcept {
    const auto it = std::find_if(families.begin(), families.end(),
                                 [&](const MetricFamily& f) { return f.name == name; });
    return it == families.end() ? nullptr : &*it;
}

std::optional<double> MetricsSnapshot::value(std::string_view name,
                                             std::span<const MetricLabel> labels) const {
    const MetricFamily* f = find(name);
    if (!f)
        return std::nullopt;
    for (const MetricSample& s : f->samples)
        if (std::equal(s.labels.begin(), s.labels.end(), labels.begin(), labels.end()))
            return s.value;
    return std::nullopt;
}

std::string write_prometheus(const MetricsSnapshot& snapshot) {
    static constexpr std::array<std::string_view, 3> types = {"counter", "gauge", "histogram"};
    std::string out;
    for (const MetricFamily& f : snapshot.families) {
        out += "# HELP ";
        out += f.name;
        out += ' ';
        append_escaped(out, f.help, false);
        out += "\n# TYPE ";
        out += f.name;
        out += ' ';
        out += types[static_cast<std::size_t>(f.type)];
        out += '\n';
        for (const MetricSample& s : f.samples) {
            if (f.type != MetricType::histogram) {
                out += f.name;
                append_labels(out, s.labels);
                out += ' ';
                out += number(s.value);
                out += '\n';
                continue;
            }
            const HistogramValue& h = s.histogram;
            for (std::size_t i = 0; i <= h.upper_bounds.size(); ++i) {
                const bool inf = i == h.upper_bounds.size();
                const MetricLabel le{"le", inf ? "+Inf" : number(h.upper_bounds[i])};
                out += f.name;
                out += "_bucket";
                append_labels(out, s.labels, &le);
                out += ' ';
                out += std::to_string(inf ? h.count : h.cumulative[i]);
                out += '\n';
            }
            out += f.name;
            out += "_sum";
            append_labels(out, s.labels);
            out += ' ';
            out += number(h.sum);
            out += '\n';
            out += f.name;
            out += "_count";
            append_labels(out, s.labels);
            out += ' ';
            out += std::to_string(h.count);
            out += '\n';
        }
    }
    return out;
}

}  // namespace herald
