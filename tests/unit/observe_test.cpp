// The logger (include/herald/logger.hpp), the metrics and their Prometheus exposition
// (include/herald/metrics.hpp), and the strict exposition reader the live tests scrape with.
#include "support/prometheus_text.hpp"

#include <herald/logger.hpp>
#include <herald/metrics.hpp>

#include <catch2/catch.hpp>

#include <vector>

using namespace std::chrono_literals;

TEST_CASE("log levels read and write by name", "[logger]") {
    for (auto level : {herald::LogLevel::debug, herald::LogLevel::info, herald::LogLevel::warning,
                       herald::LogLevel::error, herald::LogLevel::off})
        CHECK(herald::parse_log_level(herald::to_string(level)) == level);
    CHECK(herald::parse_log_level("warn") == herald::LogLevel::warning);
    CHECK_FALSE(herald::parse_log_level("verbose"));
    CHECK_FALSE(herald::parse_log_level("INFO"));
}

TEST_CASE("a logger hands its sink the records at its level and above", "[logger]") {
    std::vector<std::string> seen;
    const herald::Logger logger(herald::LogLevel::warning, [&](const herald::LogRecord& r) {
        seen.push_back(std::string(r.event) + ":" + std::string(r.field("k").value_or("-")));
        CHECK_FALSE(r.field("absent"));
    });
    logger.log(herald::LogLevel::debug, "a.debug", {{"k", "1"}});
    logger.log(herald::LogLevel::info, "a.info");
    logger.log(herald::LogLevel::warning, "a.warning", {{"k", "2"}});
    logger.log(herald::LogLevel::error, "a.error");
    logger.log(herald::LogLevel::off, "never");
    CHECK(seen == std::vector<std::string>{"a.warning:2", "a.error:-"});
    CHECK(logger.enabled(herald::LogLevel::error));
    CHECK_FALSE(logger.enabled(herald::LogLevel::info));

    const herald::Logger silent;
    CHECK_FALSE(silent.enabled(herald::LogLevel::error));
    silent.log(herald::LogLevel::error, "nothing");  // no sink: nothing happens
    const herald::Logger throwing(herald::LogLevel::debug,
                                  [](const herald::LogRecord&) { throw std::runtime_error("x"); });
    CHECK_NOTHROW(throwing.log(herald::LogLevel::error, "ignored"));
}

TEST_CASE("a log line is logfmt, quoting what needs it", "[logger]") {
    const herald::LogField fields[] = {{"delivery", "d-1"},
                                       {"reason", "HTTP 500"},
                                       {"said", "a \"quote\"\\ and\nline\x01"},
                                       {"empty", ""},
                                       {"eq", "a=b"}};
    const herald::LogRecord record{
        .level = herald::LogLevel::error, .event = "delivery.dead", .fields = fields};
    CHECK(herald::format_log_line(record) ==
          "level=error event=delivery.dead delivery=d-1 reason=\"HTTP 500\" "
          "said=\"a \\\"quote\\\"\\\\ and\\nline\\x01\" empty=\"\" eq=\"a=b\"");
}

TEST_CASE("recorded figures come back in the snapshot and the exposition", "[metrics]") {
    herald::Metrics m;
    m.event_published(herald::EventKind::alias_added);
    m.event_published(herald::EventKind::alias_added);
    m.event_published(herald::EventKind::run_state_changed);
    m.firings_recorded(3);
    m.delivery_settled(herald::DeliveryOutcome::success);
    m.delivery_settled(herald::DeliveryOutcome::dead);
    m.attempt_finished(3ms);   // <= 0.005
    m.attempt_finished(40ms);  // <= 0.05
    m.attempt_finished(100s);  // beyond every bound
    m.delivered(2s);
    m.deliveries_in_flight(2);
    m.deliveries_in_flight(-1);
    m.breakers_opened(1);
    m.endpoints_tracked(3);
    m.endpoints_tracked(-1);
    m.group_committed(3);
    m.fsynced(2ms);
    m.ssrf_refused();

    const herald::MetricsSnapshot s = m.snapshot();
    using L = std::vector<herald::MetricLabel>;
    CHECK(s.value("herald_events_published_total", L{{"kind", "alias_added"}}) == 2);
    CHECK(s.value("herald_events_published_total", L{{"kind", "run_state_changed"}}) == 1);
    CHECK(s.value("herald_firings_total") == 3);
    CHECK(s.value("herald_deliveries_total", L{{"outcome", "dead"}}) == 1);
    CHECK(s.value("herald_deliveries_in_flight") == 1);
    CHECK(s.value("herald_circuit_breakers_open") == 1);
    CHECK(s.value("herald_endpoints_tracked") == 2);
    CHECK(s.value("herald_ssrf_refusals_total") == 1);
    CHECK_FALSE(s.value("herald_no_such_metric"));
    CHECK_FALSE(s.value("herald_deliveries_total", L{{"outcome", "lost"}}));

    const herald::test::Exposition e = herald::test::parse_exposition(herald::write_prometheus(s));
    CHECK(e.families.at("herald_delivery_attempt_duration_seconds").type == "histogram");
    CHECK(e.families.at("herald_deliveries_total").type == "counter");
    CHECK(e.families.at("herald_deliveries_in_flight").type == "gauge");
    const auto bucket = [&](const char* le) {
        return e.value("herald_delivery_attempt_duration_seconds_bucket", {{"le", le}});
    };
    CHECK(bucket("0.005") == 1);
    CHECK(bucket("0.025") == 1);
    CHECK(bucket("0.05") == 2);
    CHECK(bucket("30") == 2);
    CHECK(bucket("+Inf") == 3);
    CHECK(e.value("herald_delivery_attempt_duration_seconds_sum") == Approx(100.043));
    CHECK(e.value("herald_group_commit_writes_bucket", {{"le", "4"}}) == 1);
    CHECK(e.value("herald_group_commit_writes_bucket", {{"le", "2"}}) == 0);
    CHECK(e.value("herald_fsync_duration_seconds_count") == 1);
}

TEST_CASE("label values and help are escaped as the text format asks", "[metrics]") {
    herald::MetricsSnapshot s;
    s.families.push_back({.name = "herald_test_total",
                          .help = "a help with \\ and\nnewline",
                          .type = herald::MetricType::counter,
                          .samples = {{.labels = {{"what", "q\"b\\n\nl"}}, .value = 1.5}}});
    const std::string text = herald::write_prometheus(s);
    CHECK(text ==
          "# HELP herald_test_total a help with \\\\ and\\nnewline\n"
          "# TYPE herald_test_total counter\n"
          "herald_test_total{what=\"q\\\"b\\\\n\\nl\"} 1.5\n");
    const auto e = herald::test::parse_exposition(text);
    CHECK(e.value("herald_test_total", {{"what", "q\"b\\n\nl"}}) == 1.5);
}

TEST_CASE("the exposition reader refuses what the text format forbids", "[metrics]") {
    const auto refused = [](const std::string& text) {
        try {
            herald::test::parse_exposition(text);
            return false;
        } catch (const std::runtime_error&) {
            return true;
        }
    };
    CHECK_FALSE(refused("# TYPE a counter\na 1\nb{x=\"1\",y=\"2\"} 2 1700000000000\n"));
    CHECK(refused("a 1"));                                   // no final newline
    CHECK(refused("1a 1\n"));                                // a name starting with a digit
    CHECK(refused("a{x=1} 1\n"));                            // an unquoted label value
    CHECK(refused("a{x=\"1\",x=\"2\"} 1\n"));                // a label twice
    CHECK(refused("a{x=\"\\t\"} 1\n"));                      // an escape the format lacks
    CHECK(refused("a one\n"));                               // not a number
    CHECK(refused("a 1\n# TYPE a counter\n"));               // TYPE after its samples
    CHECK(refused("# TYPE a counter\n# TYPE a counter\n"));  // TYPE twice
    CHECK(refused("# TYPE a meter\n"));                      // an unknown type
    CHECK(refused("a 1\nb 1\na 2\n"));                       // a family split apart
    CHECK(refused("# TYPE a counter\na -1\n"));              // a counter below zero
    const std::string histogram = "# TYPE h histogram\n";
    CHECK_FALSE(refused(histogram + "h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\n"
                                    "h_count 2\n"));
    CHECK(refused(histogram + "h_bucket{le=\"1\"} 1\nh_sum 3\nh_count 1\n"));  // no +Inf
    CHECK(refused(histogram + "h_bucket{le=\"1\"} 3\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\n"
                              "h_count 2\n"));                                    // decreasing
    CHECK(refused(histogram + "h_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 3\n"));  // != _count
    CHECK(refused(histogram + "h_bucket 2\nh_sum 3\nh_count 2\n"));               // no le
}
