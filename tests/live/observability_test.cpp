// What herald logs and counts while it delivers to a real receiver: a scripted set of
// deliveries (successes, a retried one that ends dead, a 410 that disables its integration, a
// skipped one, an SSRF refusal), then the exposition scraped and read back with a strict reader
// of the Prometheus text format (tests/support/prometheus_text.hpp), and the log records of each
// event the operator is told of.
//
// The receiver is herald::test::TestServer on 127.0.0.1 (ephemeral port, own thread); "hook.test"
// maps to it through a StaticResolver and the SSRF allow-list, "blocked.test" to a private
// address the SSRF rules refuse. Time is a ManualClock. Run: herald_live_tests "[observability]"
#include "support/event_builders.hpp"
#include "support/flaky_storage.hpp"
#include "support/log_capture.hpp"
#include "support/prometheus_text.hpp"
#include "support/test_server.hpp"

#include <herald/engine.hpp>
#include <herald/metrics.hpp>

#include <boost/asio/io_context.hpp>

#include <catch2/catch.hpp>

#include <functional>

namespace {

namespace asio = boost::asio;
using herald::FiringStatus;
using herald::test::Fault;
using herald::test::TestServer;
using namespace std::chrono_literals;

const herald::Principal admin = herald::test::admin_of("acme");

/// An engine delivering to `server`, its logs captured and its storage able to fail.
struct Rig {
    explicit Rig(TestServer& server, const std::function<void(herald::EngineConfig&)>& tweak = {}) {
        herald::EngineConfig config{.storage = storage, .clock = clock};
        config.dispatch.http.ssrf.allowed_subnets = {"127.0.0.0/8"};
        config.dispatch.poll_interval = 20ms;
        config.dispatch.retry = {.schedule = {0s, 0s}, .jitter = 0};
        config.dispatch.breaker.failure_threshold = 0;
        config.logger = logs.logger();
        config.metrics = metrics;
        config.resolver = std::make_shared<herald::StaticResolver>(
            io.get_executor(),
            herald::StaticResolver::Table{{"hook.test", {asio::ip::make_address("127.0.0.1")}},
                                          {"blocked.test", {asio::ip::make_address("10.1.2.3")}}});
        if (tweak)
            tweak(config);
        engine = std::make_unique<herald::Engine>(io.get_executor(), config);
        const std::string port = std::to_string(server.port());
        for (const auto& [name, host, alias] : {std::tuple{"deploy", "hook.test", "production"},
                                                std::tuple{"blocked", "blocked.test", "staging"}}) {
            engine->integrations().create(
                admin, herald::WebhookIntegration{
                           .entity = "acme",
                           .name = name,
                           .url = "http://" + std::string(host) + ":" + port + "/hook"});
            automations.push_back(
                engine->automations()
                    .create(
                        admin,
                        herald::Automation{
                            .name = std::string("on-") + alias,
                            .scope = herald::Scope::for_project("acme", "reg"),
                            .trigger =
                                herald::trigger::AddArtifactAlias{.alias = herald::Pattern{alias}},
                            .action = herald::action::Webhook{.integration = name,
                                                              .payload = R"({"a": 1})"}})
                    .id);
        }
    }
    ~Rig() {
        engine.reset();
        io.run_for(50ms);
    }

    std::string publish(const std::string& alias = "production") {
        auto receipt = engine->publish(herald::test::alias_added("acme", "reg", "clf", alias));
        REQUIRE(receipt.firings.size() == 1);
        return receipt.firings.front().id;
    }
    FiringStatus status(const std::string& id) const {
        auto f = storage->history().find(id);
        REQUIRE(f);
        return f->status;
    }
    bool run_until(const std::function<bool()>& done) {
        const auto deadline = std::chrono::steady_clock::now() + 15s;
        while (!done() && std::chrono::steady_clock::now() < deadline)
            io.run_for(5ms);
        return done();
    }
    /// Publishes and runs until the delivery settled with `status` and left the dispatcher.
    std::string deliver(FiringStatus status, const std::string& alias = "production") {
        const std::string id = publish(alias);
        REQUIRE(run_until([&] {
            return this->status(id) == status &&
                   engine->metrics().value("herald_deliveries_in_flight") == 0;
        }));
        return id;
    }

    asio::io_context io;
    std::shared_ptr<herald::ManualClock> clock = std::make_shared<herald::ManualClock>(
        herald::Timestamp{std::chrono::sys_days{std::chrono::year{2026} / 12 / 1}});
    std::shared_ptr<herald::test::FlakyStorage> storage =
        std::make_shared<herald::test::FlakyStorage>(std::make_shared<herald::MemoryStorage>());
    std::shared_ptr<herald::Metrics> metrics = std::make_shared<herald::Metrics>();
    herald::test::LogCapture logs;
    std::unique_ptr<herald::Engine> engine;
    std::vector<std::string> automations;
};

}  // namespace

TEST_CASE("a scripted run's figures, scraped from the Prometheus exposition",
          "[observability][metrics]") {
    TestServer server;
    Rig rig{server};
    rig.deliver(FiringStatus::finished);
    rig.deliver(FiringStatus::finished);
    server.set_fault(Fault::server_error);
    const std::string dead = rig.deliver(FiringStatus::dead);  // 500, retried once, 500
    server.set_fault(Fault::gone);
    const std::string gone = rig.deliver(FiringStatus::failed);  // 410: disables "deploy"
    rig.deliver(FiringStatus::skipped);
    rig.deliver(FiringStatus::failed, "staging");  // refused by the SSRF rules
    CHECK(server.requests().size() == 5);

    const std::string text = herald::write_prometheus(rig.engine->metrics());
    INFO(text);
    const herald::test::Exposition e = herald::test::parse_exposition(text);
    const auto value = [&](const std::string& name, const herald::test::Labels& labels = {}) {
        const auto v = e.value(name, labels);
        REQUIRE(v);
        return *v;
    };
    CHECK(value("herald_events_published_total", {{"kind", "alias_added"}}) == 6);
    CHECK(value("herald_events_published_total", {{"kind", "tag_added"}}) == 0);
    CHECK(value("herald_firings_total") == 6);
    CHECK(value("herald_deliveries_total", {{"outcome", "success"}}) == 2);
    CHECK(value("herald_deliveries_total", {{"outcome", "retry"}}) == 1);
    CHECK(value("herald_deliveries_total", {{"outcome", "dead"}}) == 1);
    CHECK(value("herald_deliveries_total", {{"outcome", "failed"}}) == 2);
    CHECK(value("herald_deliveries_total", {{"outcome", "skipped"}}) == 1);
    CHECK(value("herald_delivery_attempt_duration_seconds_count") == 6);
    CHECK(value("herald_delivery_attempt_duration_seconds_bucket", {{"le", "+Inf"}}) == 6);
    CHECK(value("herald_delivery_attempt_duration_seconds_sum") > 0);
    CHECK(value("herald_delivery_latency_seconds_count") == 2);
    CHECK(value("herald_outbox_deliveries", {{"state", "pending"}}) == 0);
    CHECK(value("herald_outbox_deliveries", {{"state", "dead"}}) == 1);
    CHECK(value("herald_deliveries_in_flight") == 0);
    CHECK(value("herald_circuit_breakers_open") == 0);
    CHECK(value("herald_integrations_disabled_total") == 1);
    CHECK(value("herald_ssrf_refusals_total") == 1);
    CHECK(value("herald_storage_errors_total") == 0);

    // Prometheus naming, and nothing of an automation, an integration or a URL as a label.
    for (const auto& [name, family] : e.families) {
        CHECK(name.starts_with("herald_"));
        CHECK((family.type != "counter" || name.ends_with("_total")));
        CHECK_FALSE(family.help.empty());
        for (const auto& sample : family.samples)
            for (const auto& [label, label_value] : sample.labels) {
                CHECK((label == "kind" || label == "outcome" || label == "state" || label == "le"));
                for (const std::string& id : rig.automations)
                    CHECK(label_value != id);
                CHECK(label_value.find("hook.test") == std::string::npos);
                CHECK(label_value != "deploy");
            }
    }

    // What the operator was told of each failure.
    const auto failed = rig.logs.of("delivery.failed");
    REQUIRE(failed.size() == 3);
    CHECK(failed[0].level == herald::LogLevel::warning);
    CHECK(failed[0].fields.at("delivery") == dead);
    CHECK(failed[0].fields.at("outcome") == "retry");
    CHECK(failed[0].fields.at("status") == "500");
    CHECK(failed[0].fields.at("reason") == "HTTP 500");
    CHECK(failed[0].fields.at("endpoint") == "http://hook.test:" + std::to_string(server.port()));
    CHECK(failed[0].fields.at("retry_at") == "2026-12-01T00:00:00Z");
    CHECK(failed[1].fields.at("delivery") == gone);
    CHECK(failed[1].fields.at("outcome") == "failed");
    CHECK(failed[1].fields.at("reason") == "HTTP 410");
    CHECK(failed[2].fields.at("integration") == "blocked");
    CHECK(failed[2].fields.at("reason").starts_with("ssrf:"));
    const auto dead_records = rig.logs.of("delivery.dead");
    REQUIRE(dead_records.size() == 1);
    CHECK(dead_records[0].level == herald::LogLevel::error);
    CHECK(dead_records[0].fields.at("attempt") == "2");
    CHECK(dead_records[0].fields.at("automation") == rig.automations[0]);
    const auto disabled = rig.logs.of("integration.disabled");
    REQUIRE(disabled.size() == 1);
    CHECK(disabled[0].fields.at("integration") == "deploy");
    CHECK(disabled[0].fields.at("reason") == "the endpoint answered 410 Gone");
    const auto skipped = rig.logs.of("delivery.skipped");
    REQUIRE(skipped.size() == 1);
    CHECK(skipped[0].level == herald::LogLevel::info);
    CHECK(skipped[0].fields.at("reason") == "integration 'deploy' is disabled");
    CHECK(rig.logs.of("dispatcher.started").size() == 1);
}

TEST_CASE("breakers, store failures and a stop are logged and counted", "[observability]") {
    TestServer server;
    server.set_fault(Fault::server_error);
    Rig rig{server, [](herald::EngineConfig& c) {
                c.dispatch.retry.schedule = {0s, 10s, 10s};
                c.dispatch.breaker = {.failure_threshold = 1, .open_for = 60s};
            }};
    const std::string id = rig.publish();
    REQUIRE(rig.run_until([&] { return !rig.logs.of("breaker.opened").empty(); }));
    const auto opened = rig.logs.of("breaker.opened");
    CHECK(opened[0].level == herald::LogLevel::warning);
    CHECK(opened[0].fields.at("endpoint") == "http://hook.test:" + std::to_string(server.port()));
    CHECK(opened[0].fields.at("until") == "2026-12-01T00:01:00Z");
    CHECK(rig.engine->metrics().value("herald_circuit_breakers_open") == 1);

    // The probe succeeds: closed again.
    server.set_fault(Fault::ok);
    rig.clock->advance(60s);
    rig.engine->dispatcher().wake();
    REQUIRE(rig.run_until([&] { return rig.status(id) == FiringStatus::finished; }));
    REQUIRE(rig.run_until([&] { return !rig.logs.of("breaker.closed").empty(); }));
    CHECK(rig.engine->metrics().value("herald_circuit_breakers_open") == 0);

    // A settle that fails is logged with its reason, then its recovery.
    rig.storage->fail_settles = true;
    const std::string second = rig.publish();
    REQUIRE(rig.run_until([&] { return !rig.logs.of("storage.failed").empty(); }));
    const auto failed = rig.logs.of("storage.failed");
    CHECK(failed[0].level == herald::LogLevel::error);
    CHECK(failed[0].fields.at("operation") == "settle");
    CHECK(failed[0].fields.at("reason") == "storage failure: disk I/O error (test)");
    CHECK(failed[0].fields.at("retry_in_ms") == "10");
    CHECK(rig.logs.of("storage.recovered").empty());
    rig.storage->fail_settles = false;
    REQUIRE(rig.run_until([&] { return rig.status(second) == FiringStatus::finished; }));
    // Logged once the dispatcher has the store's answer, which may be after the history shows
    // the write.
    REQUIRE(rig.run_until([&] { return !rig.logs.of("storage.recovered").empty(); }));
    const auto recovered = rig.logs.of("storage.recovered");
    REQUIRE(recovered.size() == 1);
    CHECK(recovered[0].fields.at("operation") == "settle");
    CHECK(rig.engine->metrics().value("herald_storage_errors_total") >= 1);

    bool stopped = false;
    rig.engine->dispatcher().async_stop(1s, [&](boost::system::error_code) { stopped = true; });
    REQUIRE(rig.run_until([&] { return stopped; }));
    CHECK(rig.logs.of("dispatcher.stopped").size() == 1);
}

TEST_CASE("a logger below a record's level is not handed it", "[observability]") {
    TestServer server;
    herald::test::LogCapture warnings;
    Rig rig{server, [&](herald::EngineConfig& c) {
                c.logger = warnings.logger(herald::LogLevel::warning);
            }};
    server.set_fault(Fault::gone);
    rig.deliver(FiringStatus::failed);
    rig.deliver(FiringStatus::skipped);
    CHECK(warnings.of("dispatcher.started").empty());  // info
    CHECK(warnings.of("delivery.skipped").empty());    // info
    CHECK(warnings.of("delivery.failed").size() == 1);
    CHECK(warnings.of("integration.disabled").size() == 1);
    for (const auto& r : warnings.records())
        CHECK(r.level >= herald::LogLevel::warning);
}
