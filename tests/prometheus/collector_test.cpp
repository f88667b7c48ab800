// herald::prometheus (include/herald/prometheus/collector.hpp): herald's figures serialized by
// prometheus-cpp's own TextSerializer — a second implementation of the text format — read back
// with the strict reader and compared, sample by sample, with herald's `write_prometheus`.
#include "support/prometheus_text.hpp"

#include <herald/metrics.hpp>
#include <herald/prometheus/collector.hpp>

#include <prometheus/text_serializer.h>

#include <catch2/catch.hpp>

#include <charconv>
#include <stdexcept>

using namespace std::chrono_literals;

namespace {

/// Every sample as "name{labels} value", `le` bounds rewritten in one spelling (the two writers
/// may print 0.005 differently).
std::multiset<std::string> samples_of(const herald::test::Exposition& e) {
    std::multiset<std::string> out;
    for (const auto& [family, f] : e.families)
        for (const herald::test::ExposedSample& s : f.samples) {
            std::string line = s.name + "{";
            for (const auto& [name, value] : s.labels) {
                std::string v = value;
                if (name == "le" && v != "+Inf") {
                    char buffer[32];
                    v.assign(buffer,
                             std::to_chars(buffer, buffer + sizeof buffer, std::stod(v)).ptr);
                }
                line += name + "=" + v + ",";
            }
            out.insert(line + "} " + std::to_string(s.value));
        }
    return out;
}

herald::MetricsSnapshot recorded() {
    herald::Metrics m;
    m.event_published(herald::EventKind::tag_added);
    m.firings_recorded(2);
    m.delivery_settled(herald::DeliveryOutcome::success);
    m.delivery_settled(herald::DeliveryOutcome::retry);
    m.attempt_finished(7ms);
    m.attempt_finished(2s);
    m.delivered(90s);
    m.group_committed(17);
    m.fsynced(600us);
    m.breakers_opened(1);
    herald::MetricsSnapshot s = m.snapshot();
    s.families.push_back({.name = "herald_outbox_deliveries",
                          .help = "Deliveries in the outbox, by state.",
                          .type = herald::MetricType::gauge,
                          .samples = {{.labels = {{"state", "pending"}}, .value = 3},
                                      {.labels = {{"state", "dead"}}, .value = 1}}});
    return s;
}

}  // namespace

TEST_CASE("prometheus-cpp's serialization of the collector matches herald's exposition",
          "[prometheus]") {
    const herald::MetricsSnapshot snapshot = recorded();
    const herald::prometheus::Collector collector([&] { return snapshot; });
    const std::string theirs = prometheus::TextSerializer().Serialize(collector.Collect());
    const std::string ours = herald::write_prometheus(snapshot);
    INFO(theirs);
    const auto a = herald::test::parse_exposition(theirs);
    const auto b = herald::test::parse_exposition(ours);
    CHECK(samples_of(a) == samples_of(b));
    for (const auto& [name, family] : b.families) {
        REQUIRE(a.families.count(name));
        CHECK(a.families.at(name).type == family.type);
    }
    CHECK(a.value("herald_delivery_attempt_duration_seconds_bucket", {{"le", "+Inf"}}) == 2);
    CHECK(a.value("herald_outbox_deliveries", {{"state", "dead"}}) == 1);
    CHECK(a.value("herald_circuit_breakers_open") == 1);
}

TEST_CASE("a collector whose source fails gives no families, not a failed scrape", "[prometheus]") {
    const herald::prometheus::Collector collector(
        []() -> herald::MetricsSnapshot { throw std::runtime_error("store is down"); });
    CHECK(collector.Collect().empty());
}
