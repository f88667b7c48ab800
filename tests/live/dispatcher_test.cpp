// Live tests of the dispatcher (include/herald/dispatcher.hpp): an Engine built on an
// io_context that the test thread runs, publishing to real HTTP and HTTPS receivers.
//
// The receivers are started by the tests: herald::test::TestServer (tests/support) listens on
// 127.0.0.1 on an ephemeral port in its own thread, with a fault switch; the Slack tests use a
// one-answer receiver below. Integrations name "hook.test", which a StaticResolver maps to
// 127.0.0.1 and which the SSRF allow-list admits. Time is a ManualClock: retries become due only
// when a test moves it. Run: build-dir/tests/herald_live_tests "[dispatcher]"
#include "delivery/signature.hpp"
#include "support/event_builders.hpp"
#include "support/flaky_storage.hpp"
#include "support/log_capture.hpp"
#include "support/test_server.hpp"

#include <herald/engine.hpp>
#include <herald/error.hpp>
#include <herald/memory_storage.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <catch2/catch.hpp>

#include <boost/asio/read.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

namespace {

namespace asio = boost::asio;
using herald::FiringStatus;
using herald::test::Fault;
using herald::test::FlakyStorage;
using herald::test::TestServer;
using namespace std::chrono_literals;

const herald::Principal admin = herald::test::admin_of("acme");
const std::string signing_key = "s3cr3t-signing-key";
const std::string access_token = "tok-123-very-secret";

// An Engine with a running dispatcher, an automation that posts to `server`, and the means to
// drive them.
class Harness {
  public:
    explicit Harness(TestServer& server,
                     const std::function<void(herald::EngineConfig&)>& tweak = {},
                     const std::vector<std::string>& more_names = {})
        : server_(server) {
        herald::StaticResolver::Table names{{"hook.test", {asio::ip::make_address("127.0.0.1")}}};
        for (const std::string& name : more_names)
            names[name] = {asio::ip::make_address("127.0.0.1")};
        herald::EngineConfig config{.storage = storage, .clock = clock, .secrets = secrets};
        config.dispatch.http.ssrf.allowed_subnets = {"127.0.0.0/8"};
        config.dispatch.http.ca_file = server.ca_file();
        config.dispatch.http.connect_timeout = 2s;
        config.dispatch.http.total_timeout = 1s;
        config.dispatch.poll_interval = 20ms;
        config.dispatch.on_integration_disabled = [this](const herald::IntegrationDisabled& d) {
            disabled.push_back(d);
        };
        config.job_queue = jobs;
        config.resolver = std::make_shared<herald::StaticResolver>(io.get_executor(), names);
        if (tweak)
            tweak(config);
        // What the engine runs on, when a tweak put another process's in place.
        if (auto shared = std::dynamic_pointer_cast<herald::MemoryStorage>(config.storage))
            storage = shared;
        if (auto shared = std::dynamic_pointer_cast<herald::MemorySecretStore>(config.secrets))
            secrets = shared;
        engine_clock = config.clock;
        engine = std::make_unique<herald::Engine>(io.get_executor(), config);
        if (!config.secrets->contains("acme", "SIGNING_KEY")) {  // a restart keeps them
            engine->secrets().put(admin, "acme", "SIGNING_KEY", signing_key);
            engine->secrets().put(admin, "acme", "TOKEN", access_token);
        }
    }
    ~Harness() {
        engine.reset();
        io.run_for(50ms);
    }

    std::string url() const {
        return std::string(server_.ca_file().empty() ? "http" : "https") +
               "://hook.test:" + std::to_string(server_.port()) + "/hook";
    }

    void add_webhook(herald::SignatureScheme scheme = herald::SignatureScheme::wandb) {
        add_webhook_integration(scheme);
        add_automation(herald::action::Webhook{
            .integration = "deploy",
            .payload = R"({"alias": "${alias}", "by": "${event_author}", "t": "${TOKEN}"})"});
    }

    void add_webhook_integration(herald::SignatureScheme scheme = herald::SignatureScheme::wandb) {
        engine->integrations().create(admin,
                                      herald::WebhookIntegration{.entity = "acme",
                                                                 .name = "deploy",
                                                                 .url = url(),
                                                                 .access_token = "TOKEN",
                                                                 .signature = scheme,
                                                                 .signing_secret = "SIGNING_KEY"});
    }

    /// An integration `name` that posts "{}" to `url`, and an automation of the same name
    /// that uses it.
    void add_plain_webhook(const std::string& name, std::string url) {
        engine->integrations().create(
            admin,
            herald::WebhookIntegration{.entity = "acme", .name = name, .url = std::move(url)});
        add_automation(herald::action::Webhook{.integration = name, .payload = "{}"}, name);
    }

    void add_automation(herald::Action action, std::string name = "on-production") {
        automation_id =
            engine->automations()
                .create(admin,
                        herald::Automation{.name = std::move(name),
                                           .scope = herald::Scope::for_project("acme", "reg"),
                                           .trigger =
                                               herald::trigger::AddArtifactAlias{
                                                   .alias = herald::Pattern{"production"}},
                                           .action = std::move(action)})
                .id;
    }

    /// Publishes the event the automation fires on; returns the delivery id.
    std::string publish() {
        auto receipt =
            engine->publish(herald::test::alias_added("acme", "reg", "clf", "production"));
        REQUIRE(receipt.firings.size() == 1);
        return receipt.firings.front().id;
    }

    /// Publishes and runs until the first attempt is recorded; returns the delivery id.
    std::string publish_and_attempt() {
        const std::string id = publish();
        REQUIRE(run_until_attempts(id, 1));
        return id;
    }

    herald::Firing firing(const std::string& id) const {
        auto f = storage->history().find(id);
        REQUIRE(f);
        return *f;
    }

    /// Runs the io_context until `done` holds (false after `timeout` of real time), looking
    /// every `slice`.
    bool run_until(const std::function<bool()>& done, std::chrono::seconds timeout = 15s,
                   std::chrono::milliseconds slice = 5ms) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!done()) {
            if (std::chrono::steady_clock::now() > deadline)
                return false;
            io.run_for(slice);
        }
        return true;
    }
    bool run_until_attempts(const std::string& id, std::size_t n) {
        return run_until([&] { return firing(id).attempts.size() >= n; });
    }

    /// Moves time to when the delivery is due and wakes the dispatcher.
    void advance_to_due() {
        auto due = storage->outbox().next_due();
        REQUIRE(due);
        if (*due > clock->now())
            clock->set(*due);
        engine->dispatcher().wake();
    }

    asio::io_context io;
    std::shared_ptr<herald::ManualClock> clock = std::make_shared<herald::ManualClock>(
        herald::Timestamp{std::chrono::sys_days{std::chrono::year{2026} / 11 / 22}});
    std::shared_ptr<herald::MemoryStorage> storage = std::make_shared<herald::MemoryStorage>();
    std::shared_ptr<herald::MemorySecretStore> secrets =
        std::make_shared<herald::MemorySecretStore>();
    std::shared_ptr<herald::MemoryJobQueue> jobs =
        std::make_shared<herald::MemoryJobQueue>(io.get_executor());
    std::shared_ptr<const herald::Clock> engine_clock;  ///< `clock`, unless a tweak set another
    std::vector<herald::IntegrationDisabled> disabled;
    std::unique_ptr<herald::Engine> engine;
    std::string automation_id;

  private:
    TestServer& server_;
};

/// Configures a second process beside `first`, or `first` restarted: `tweak`, then the storage,
/// secrets and clock of `first`.
std::function<void(herald::EngineConfig&)> sharing(
    const Harness& first, std::function<void(herald::EngineConfig&)> tweak = {}) {
    return [&first, tweak = std::move(tweak)](herald::EngineConfig& c) {
        if (tweak)
            tweak(c);
        c.storage = first.storage;
        c.secrets = first.secrets;
        c.clock = first.engine_clock;
    };
}

// A receiver that answers every request with one fixed HTTP response (and closes the
// connection): Slack's JSON replies, which TestServer's fault switch does not produce.
class FixedAnswerServer {
  public:
    explicit FixedAnswerServer(std::string response)
        : response_(std::move(response)),
          acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}),
          thread_([this] { serve(); }) {}
    ~FixedAnswerServer() {
        // A blocking accept is ended by a last connection, not by closing the acceptor.
        stopping_ = true;
        boost::system::error_code ec;
        asio::ip::tcp::socket wake(io_);
        wake.connect(acceptor_.local_endpoint(), ec);
        thread_.join();
    }
    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
    std::vector<std::string> requests() const {
        std::lock_guard lock(mutex_);
        return requests_;
    }

  private:
    void serve() {
        for (;;) {
            boost::system::error_code ec;
            asio::ip::tcp::socket socket(io_);
            acceptor_.accept(socket, ec);
            if (ec || stopping_)
                return;
            asio::streambuf buffer;
            asio::read_until(socket, buffer, "\r\n\r\n", ec);
            std::string head(asio::buffers_begin(buffer.data()), asio::buffers_end(buffer.data()));
            const auto at = head.find("Content-Length: ");
            const std::size_t length =
                at == std::string::npos ? 0 : std::stoul(head.substr(at + 16));
            const std::size_t header_end = head.find("\r\n\r\n") + 4;
            if (head.size() < header_end + length)
                asio::read(socket, buffer,
                           asio::transfer_exactly(header_end + length - head.size()), ec);
            {
                std::lock_guard lock(mutex_);
                requests_.emplace_back(asio::buffers_begin(buffer.data()),
                                       asio::buffers_end(buffer.data()));
            }
            asio::write(socket, asio::buffer(response_), ec);
        }
    }

    std::string response_;
    asio::io_context io_;
    asio::ip::tcp::acceptor acceptor_;
    mutable std::mutex mutex_;
    std::vector<std::string> requests_;
    std::atomic<bool> stopping_ = false;
    std::thread thread_;
};

std::string http_answer(std::string_view status, std::string_view body,
                        std::string_view extra_headers = "") {
    return "HTTP/1.1 " + std::string(status) +
           "\r\nContent-Type: application/json\r\nConnection: close\r\n" +
           std::string(extra_headers) + "Content-Length: " + std::to_string(body.size()) +
           "\r\n\r\n" + std::string(body);
}

void add_slack(Harness& h, std::uint16_t port) {
    h.engine->secrets().put(admin, "acme", "SLACK_BOT", "xoxb-bot-token");
    h.engine->integrations().create(
        admin, herald::SlackIntegration{
                   .entity = "acme",
                   .name = "alerts",
                   .bot_token = "SLACK_BOT",
                   .channel = "#ml",
                   .api_base_url = "http://hook.test:" + std::to_string(port) + "/api"});
    h.add_automation(
        herald::action::SlackNotification{.integration = "alerts",
                                          .title = "${alias} on ${artifact_collection_name}",
                                          .message = "by ${event_author} <b>",
                                          .severity = herald::Severity::warn});
}

std::chrono::nanoseconds wait_before_retry(Harness& h) {
    auto due = h.storage->outbox().next_due();
    REQUIRE(due);
    return *due - h.clock->now();
}

}  // namespace

TEST_CASE("a 200 finishes the delivery with every header, signed", "[dispatcher]") {
    TestServer server{{.tls = true}};
    Harness h{server};
    h.add_webhook();
    const std::string id = h.publish();
    REQUIRE(h.run_until([&] { return h.firing(id).status == FiringStatus::finished; }));

    const auto requests = server.requests();
    REQUIRE(requests.size() == 1);
    const auto& r = requests[0];
    CHECK(r.header("Content-Type") == "application/json");
    CHECK(r.header("X-Herald-Delivery") == id);
    CHECK(r.header("X-Herald-Attempt") == "1");
    CHECK(r.header("X-Herald-Timestamp") == "1795305600");
    CHECK(r.header("Authorization") == "Bearer " + access_token);
    CHECK(r.header("X-Wandb-Signature") == herald::detail::wandb_signature(r.body, signing_key));
    CHECK(r.body == R"({"alias":"production","by":"grace","t":")" + access_token + "\"}");

    const herald::Firing f = h.firing(id);
    REQUIRE(f.attempts.size() == 1);
    CHECK(f.attempts[0].status_code == 200);
    CHECK(f.attempts[0].number == 1);
    CHECK(f.attempts[0].error.empty());
    CHECK(f.attempts[0].response_body == "ok");
    CHECK(f.payload == R"({"alias":"production","by":"grace","t":"********"})");
    CHECK(f.payload.find(access_token) == std::string::npos);
    CHECK(h.storage->outbox().pending_count() == 0);
    CHECK(h.engine->history().last_execution(h.automation_id)->id == id);
}

TEST_CASE("standard and github signatures are fresh on every attempt", "[dispatcher]") {
    TestServer server;
    server.enqueue_faults({Fault::server_error});
    Harness h{server};
    h.secrets->put("acme", "SIGNING_KEY",
                   {.value = herald::SecretValue{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}});
    h.add_webhook(herald::SignatureScheme::standard);
    const std::string id = h.publish_and_attempt();
    h.clock->advance(10s);
    h.advance_to_due();
    REQUIRE(h.run_until([&] { return h.firing(id).status == FiringStatus::finished; }));

    REQUIRE(server.requests().size() == 2);
    const auto key =
        herald::detail::decode_standard_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    for (const auto& r : server.requests()) {
        CHECK(r.header("webhook-id") == id);
        const auto ts = std::stoll(r.header("webhook-timestamp"));
        CHECK(r.header("webhook-signature") ==
              herald::detail::standard_signature(id, ts, r.body, {*key}));
    }
    CHECK(server.requests()[0].header("webhook-timestamp") !=
          server.requests()[1].header("webhook-timestamp"));
    CHECK(server.requests()[1].header("X-Herald-Attempt") == "2");
}

TEST_CASE("a 500 is retried on the schedule with the same delivery id", "[dispatcher]") {
    TestServer server;
    server.set_fault(Fault::server_error);
    Harness h{server};
    h.add_webhook();
    const std::string id = h.publish_and_attempt();
    CHECK(h.firing(id).status == FiringStatus::pending);
    CHECK(h.firing(id).attempts[0].status_code == 500);
    CHECK(h.firing(id).attempts[0].error == "HTTP 500");
    const auto wait = wait_before_retry(h);
    CHECK(wait >= 4s);
    CHECK(wait <= 6s);

    // Not before it is due.
    h.clock->advance(wait - 1ms);
    h.engine->dispatcher().wake();
    h.io.run_for(100ms);
    CHECK(server.requests().size() == 1);

    server.set_fault(Fault::ok);
    h.advance_to_due();
    REQUIRE(h.run_until([&] { return h.firing(id).status == FiringStatus::finished; }));
    REQUIRE(server.requests().size() == 2);
    CHECK(server.requests()[1].header("X-Herald-Delivery") == id);
    CHECK(server.requests()[1].header("X-Herald-Attempt") == "2");
}

TEST_CASE("429 with Retry-After waits as long as asked, within the bound", "[dispatcher]") {
    TestServer server;
    server.set_fault(Fault::too_many_requests);
    server.set_retry_after("600");
    Harness h{server};
    h.add_webhook();
    const std::string id = h.publish_and_attempt();
    CHECK(h.firing(id).attempts[0].status_code == 429);
    CHECK(wait_before_retry(h) == 600s);

    server.set_retry_after("86400");
    h.advance_to_due();
    REQUIRE(h.run_until_attempts(id, 2));
    const auto wait = wait_before_retry(h);
    CHECK(wait == 1h);  // max_retry_after; the schedule asks for 5 min ± 20 %
}

TEST_CASE("410 fails the delivery and disables the integration", "[dispatcher]") {
    TestServer server;
    server.set_fault(Fault::gone);
    Harness h{server};
    h.add_webhook();
    const std::string id = h.publish();
    REQUIRE(h.run_until([&] { return h.firing(id).status == FiringStatus::failed; }));
    REQUIRE(h.disabled.size() == 1);
    CHECK(h.disabled[0].integration == "deploy");
    CHECK(h.disabled[0].reason == "the endpoint answered 410 Gone");
    CHECK_FALSE(h.engine->integrations().get(admin, "acme", "deploy").enabled());

    const std::string next = h.publish();
    REQUIRE(h.run_until([&] { return h.firing(next).status == FiringStatus::skipped; }));
    CHECK(h.firing(next).attempts[0].error == "integration 'deploy' is disabled");
    CHECK(server.requests().size() == 1);
}

TEST_CASE("the host is told each outcome once written, and what an operator should know",
          "[dispatcher]") {
    TestServer server;
    server.set_fault(Fault::server_error);
    std::vector<herald::DeliverySettled> settled;
    std::vector<herald::OperatorEvent> told;
    Harness h{server, [&](herald::EngineConfig& c) {
                  c.dispatch.retry.schedule = {0s, 1s};
                  c.dispatch.retry.jitter = 0;
                  c.dispatch.breaker.failure_threshold = 2;
                  c.dispatch.disable_after = 1900ms;  // the second failure, 1 s on, is at 52 %
                  c.dispatch.on_settled = [&settled,
                                           storage = c.storage](const herald::DeliverySettled& s) {
                      // Written before the host hears of it.
                      const auto written = storage->history().find(s.delivery_id);
                      CHECK((written && written->status == s.status));
                      settled.push_back(s);
                  };
                  c.dispatch.on_operator_event = [&](const herald::OperatorEvent& e) {
                      told.push_back(e);
                  };
              }};
    h.add_webhook();
    const std::string id = h.publish_and_attempt();
    REQUIRE(h.run_until([&] { return settled.size() == 1; }));
    CHECK(settled[0].delivery_id == id);
    CHECK(settled[0].automation_id == h.automation_id);
    CHECK(settled[0].automation_name == "on-production");
    CHECK(settled[0].entity == "acme");
    CHECK(settled[0].integration == "deploy");
    CHECK(settled[0].status == FiringStatus::pending);
    CHECK(settled[0].attempt == 1);
    CHECK(settled[0].status_code == 500);
    CHECK(settled[0].error == "HTTP 500");
    REQUIRE(settled[0].retry_at);
    CHECK(*settled[0].retry_at == h.clock->now() + 1s);
    CHECK(told.empty());

    h.advance_to_due();
    REQUIRE(h.run_until([&] { return settled.size() == 2 && told.size() == 3; }));
    CHECK(settled[1].status == FiringStatus::dead);
    CHECK(settled[1].attempt == 2);
    CHECK_FALSE(settled[1].retry_at);
    const auto event_of = [&](herald::OperatorEventKind kind) {
        const auto it = std::find_if(told.begin(), told.end(), [&](const herald::OperatorEvent& e) {
            return e.kind == kind;
        });
        REQUIRE(it != told.end());
        return *it;
    };
    const herald::OperatorEvent breaker = event_of(herald::OperatorEventKind::breaker_opened);
    CHECK(breaker.endpoint.find(std::to_string(server.port())) != std::string::npos);
    const herald::OperatorEvent failing = event_of(herald::OperatorEventKind::integration_failing);
    CHECK(failing.entity == "acme");
    CHECK(failing.integration == "deploy");
    CHECK(failing.percent == 50);
    CHECK(failing.reason.find("50 % of the time after which it is disabled") != std::string::npos);
    const herald::OperatorEvent dead = event_of(herald::OperatorEventKind::retries_exhausted);
    CHECK(dead.delivery_id == id);
    CHECK(dead.reason == "every attempt failed; the last: HTTP 500");
    CHECK(told.back().kind == herald::OperatorEventKind::retries_exhausted);  // once written

    // Counted too, with the disabling that a 410 brings.
    server.set_fault(Fault::gone);
    h.clock->advance(31s);  // the breaker lets a probe through
    h.engine->dispatcher().replay(admin, id);
    REQUIRE(h.run_until([&] { return settled.size() == 3 && told.size() == 4; }));
    CHECK(settled[2].status == FiringStatus::failed);
    CHECK(told[3].kind == herald::OperatorEventKind::integration_disabled);
    CHECK(told[3].reason == "the endpoint answered 410 Gone");
    const std::string next = h.publish();
    REQUIRE(h.run_until([&] { return settled.size() == 4; }));
    CHECK(settled[3].delivery_id == next);
    CHECK(settled[3].status == FiringStatus::skipped);
    CHECK(settled[3].error == "integration 'deploy' is disabled");
    const herald::MetricsSnapshot m = h.engine->metrics();
    for (const char* kind :
         {"integration_failing", "integration_disabled", "retries_exhausted", "breaker_opened"}) {
        const herald::MetricLabel label{"kind", kind};
        CHECK(m.value("herald_operator_events_total", {&label, 1}) == 1);
    }
}

TEST_CASE("the outbox's oldest claimable delivery is measured from its due time", "[dispatcher]") {
    TestServer server;
    server.set_fault(Fault::server_error);
    Harness h{server, [](herald::EngineConfig& c) {
                  c.dispatch.retry.schedule = {0s, 10s};
                  c.dispatch.retry.jitter = 0;
              }};
    h.add_webhook();
    h.publish_and_attempt();
    h.io.run_for(50ms);  // the retry's settlement is written
    const auto age = [&] {
        return h.engine->metrics().value("herald_outbox_oldest_due_age_seconds");
    };
    CHECK(age() == 0);      // due in 10 s
    h.clock->advance(15s);  // due 5 s ago, and nobody woke the dispatcher
    CHECK(age() == 5);
}

TEST_CASE("a redirect fails without being followed", "[dispatcher]") {
    TestServer server;
    server.set_fault(Fault::redirect);
    Harness h{server};
    h.add_webhook();
    const std::string id = h.publish();
    REQUIRE(h.run_until([&] { return h.firing(id).status == FiringStatus::failed; }));
    CHECK(h.firing(id).attempts[0].status_code == 301);
    h.io.run_for(100ms);
    CHECK(server.requests().size() == 1);
    CHECK(h.storage->outbox().pending_count() == 0);
}

TEST_CASE("a stall past the timeout, a reset and a trickle are retried", "[dispatcher]") {
    const Fault fault = GENERATE(Fault::stall, Fault::reset, Fault::trickle);
    TestServer server;
    server.set_fault(fault);
    Harness h{server};
    h.add_webhook();
    const std::string id = h.publish_and_attempt();
    const herald::Firing f = h.firing(id);
    CHECK(f.status == FiringStatus::pending);
    CHECK(f.attempts[0].status_code == 0);
    CHECK_FALSE(f.attempts[0].error.empty());
    CHECK(wait_before_retry(h) >= 4s);
}

TEST_CASE("a 10 MB answer finishes, its body recorded up to the bound", "[dispatcher]") {
    TestServer server;
    server.set_fault(Fault::huge_body);
    Harness h{server, [](herald::EngineConfig& c) { c.dispatch.http.total_timeout = 10s; }};
    h.add_webhook();
    const std::string id = h.publish();
    REQUIRE(h.run_until([&] { return h.firing(id).status == FiringStatus::finished; }));
    CHECK(h.firing(id).attempts[0].status_code == 200);
    CHECK(h.firing(id).attempts[0].response_body.size() == 4096);
}

TEST_CASE("an exhausted delivery is dead-lettered and replays with its id", "[dispatcher]") {
    TestServer server;
    server.set_fault(Fault::server_error);
    Harness h{server, [](herald::EngineConfig& c) { c.dispatch.retry.schedule = {0s, 1s}; }};
    h.add_webhook();
    const std::string id = h.publish_and_attempt();
    h.advance_to_due();
    REQUIRE(h.run_until([&] { return h.firing(id).status == FiringStatus::dead; }));
    CHECK(h.firing(id).attempts.size() == 2);
    REQUIRE(h.storage->outbox().dead_letters().size() == 1);
    CHECK_FALSE(h.storage->outbox().next_due());

    server.set_fault(Fault::ok);
    h.engine->dispatcher().replay(admin, id);
    REQUIRE(h.run_until([&] { return h.firing(id).status == FiringStatus::finished; }));
    CHECK(h.firing(id).attempts.size() == 3);
    CHECK(server.requests().back().header("X-Herald-Delivery") == id);
    CHECK(server.requests().back().header("X-Herald-Attempt") == "3");

    // A finished delivery replays too, from the history.
    h.engine->dispatcher().replay(admin, id);
    REQUIRE(h.run_until_attempts(id, 4));
    REQUIRE(h.run_until([&] { return h.firing(id).status == FiringStatus::finished; }));
    CHECK(server.requests().size() == 4);
    CHECK(server.requests().back().header("X-Herald-Delivery") == id);

    CHECK_THROWS_AS(h.engine->dispatcher().replay(herald::test::admin_of("other"), id),
                    herald::Error);
    CHECK_THROWS_AS(h.engine->dispatcher().replay(admin, "no-such-id"), herald::Error);
}

TEST_CASE("a replay carries out the action as it was recorded, whatever became of the automation",
          "[dispatcher]") {
    TestServer server;
    Harness h{server};
    h.add_webhook();
    const std::string id = h.publish();
    REQUIRE(h.run_until([&] { return h.firing(id).status == FiringStatus::finished; }));
    const std::string sent = server.requests().back().body;
    REQUIRE(sent.find(R"("alias":"production")") != std::string::npos);

    // Its automation now sends something else: the replay still sends what was recorded.
    herald::Automation changed = h.engine->automations().get(admin, h.automation_id);
    changed.action = herald::action::Webhook{.integration = "deploy", .payload = R"({"new": 1})"};
    h.engine->automations().update(admin, h.automation_id, changed);
    h.engine->dispatcher().replay(admin, id);
    REQUIRE(h.run_until_attempts(id, 2));
    REQUIRE(h.run_until([&] { return h.firing(id).status == FiringStatus::finished; }));
    REQUIRE(server.requests().size() == 2);
    CHECK(server.requests().back().body == sent);

    // And once it is deleted.
    h.engine->automations().remove(admin, h.automation_id);
    h.engine->dispatcher().replay(admin, id);
    REQUIRE(h.run_until_attempts(id, 3));
    REQUIRE(h.run_until([&] { return h.firing(id).status == FiringStatus::finished; }));
    REQUIRE(server.requests().size() == 3);
    CHECK(server.requests().back().body == sent);
    CHECK(server.requests().back().header("X-Herald-Delivery") == id);
}

TEST_CASE("an integration failing for the configured time is disabled", "[dispatcher]") {
    TestServer server;
    server.set_fault(Fault::server_error);
    Harness h{server, [](herald::EngineConfig& c) { c.dispatch.disable_after = 1h; }};
    h.add_webhook();
    const std::string id = h.publish();
    for (std::size_t n = 1; h.disabled.empty() && n <= 5; ++n) {
        REQUIRE(h.run_until_attempts(id, n));
        if (h.disabled.empty())
            h.advance_to_due();
    }
    REQUIRE(h.disabled.size() == 1);
    CHECK(h.disabled[0].integration == "deploy");
    CHECK(h.disabled[0].reason.starts_with("its deliveries have failed since "));
    CHECK_FALSE(h.engine->integrations().get(admin, "acme", "deploy").enabled());
    // Disabled, it fails no more: its streak is over.
    CHECK_FALSE(h.engine->automation_summary(admin, h.automation_id).integration_streak);
    // 0 s, 5 s, 5 min, 30 min: the failure at about 35 min is not enough, the one after 2 h is.
    CHECK(h.firing(id).attempts.size() == 5);
}

TEST_CASE("a dead integration is disabled however often its process restarts", "[dispatcher]") {
    TestServer server;
    server.set_fault(Fault::server_error);
    std::shared_ptr<herald::MemoryStorage> storage;
    std::shared_ptr<herald::ManualClock> clock;
    std::shared_ptr<herald::MemorySecretStore> secrets;
    // Each process lives 40 minutes, less than the hour after which the integration goes.
    const auto process = [&](TestServer& s) {
        return std::make_unique<Harness>(s, [&](herald::EngineConfig& c) {
            if (storage) {
                c.storage = storage;
                c.clock = clock;
                c.secrets = secrets;
            }
            c.dispatch.disable_after = 1h;
            c.dispatch.retry.schedule = {0s, 40min, 40min, 40min};
            c.dispatch.retry.jitter = 0;
        });
    };
    auto h = process(server);
    storage = h->storage;
    clock = h->clock;
    secrets = h->secrets;
    h->add_webhook();
    const std::string id = h->publish_and_attempt();
    const herald::Timestamp first_failure = clock->now();
    for (std::size_t attempt = 2; attempt <= 3; ++attempt) {
        h.reset();
        clock->advance(40min);
        h = process(server);
        h->engine->dispatcher().wake();
        REQUIRE(h->run_until_attempts(id, attempt));
        REQUIRE(h->run_until([&] { return attempt < 3 || !h->disabled.empty(); }));
    }
    REQUIRE(h->disabled.size() == 1);
    CHECK(h->disabled[0].reason ==
          "its deliveries have failed since " + herald::format_rfc3339(first_failure));
    CHECK_FALSE(h->engine->integrations().get(admin, "acme", "deploy").enabled());
    CHECK(server.requests().size() == 3);
}

TEST_CASE("a success through another process ends the failing streak", "[dispatcher]") {
    TestServer server;
    server.set_fault(Fault::server_error);
    const auto config = [](herald::EngineConfig& c) {
        c.dispatch.disable_after = 1h;
        c.dispatch.retry.schedule = {0s, 2h};
        c.dispatch.retry.jitter = 0;
    };
    Harness a{server, config};
    a.add_webhook();
    Harness b{server, sharing(a, config)};
    const std::string failing = a.publish_and_attempt();

    // An hour and a half on, the other process delivers to the same integration.
    a.clock->advance(90min);
    server.set_fault(Fault::ok);
    const std::string delivered = b.publish();
    REQUIRE(b.run_until([&] { return a.firing(delivered).status == FiringStatus::finished; }));
    CHECK_FALSE(a.engine->automation_summary(admin, a.automation_id).integration_streak);

    // The first process's retry fails two hours after its first failure: a new streak.
    server.set_fault(Fault::server_error);
    a.advance_to_due();
    REQUIRE(a.run_until_attempts(failing, 2));
    a.io.run_for(50ms);
    CHECK(a.disabled.empty());
    CHECK(a.engine->integrations().get(admin, "acme", "deploy").enabled());
    const auto streak = a.engine->automation_summary(admin, a.automation_id).integration_streak;
    REQUIRE(streak);
    CHECK(streak->failing_since == a.clock->now());
}

TEST_CASE("a summary shows the integration's failing streak until a delivery succeeds",
          "[dispatcher][summary]") {
    TestServer server;
    server.set_fault(Fault::server_error);
    Harness h{server, [](herald::EngineConfig& c) { c.dispatch.disable_after = 2h; }};
    h.add_webhook();
    const auto streak = [&] {
        return h.engine->automation_summary(admin, h.automation_id).integration_streak;
    };
    CHECK_FALSE(streak());

    const herald::Timestamp first_failure = h.clock->now();
    const std::string id = h.publish_and_attempt();
    REQUIRE(streak());
    CHECK(streak()->failing_since == first_failure);
    CHECK(streak()->disables_at == first_failure + 2h);

    // Another failure, later: the streak still starts at the first.
    h.advance_to_due();
    REQUIRE(h.run_until_attempts(id, 2));
    REQUIRE(h.clock->now() > first_failure);
    REQUIRE(streak());
    CHECK(streak()->failing_since == first_failure);

    server.set_fault(Fault::ok);
    h.advance_to_due();
    REQUIRE(h.run_until([&] { return h.firing(id).status == FiringStatus::finished; }));
    const herald::AutomationSummary summary = h.engine->automation_summary(admin, h.automation_id);
    CHECK_FALSE(summary.integration_streak);
    REQUIRE(summary.last_execution);
    CHECK(summary.last_execution->id == id);
    CHECK(summary.last_execution->attempts.size() == 3);
    CHECK(summary.counts[static_cast<std::size_t>(FiringStatus::finished)].second == 1);
}

TEST_CASE("stop lets a request finish within the deadline, else returns it", "[dispatcher]") {
    TestServer server;
    server.set_fault(Fault::stall);
    Harness h{server, [](herald::EngineConfig& c) { c.dispatch.http.total_timeout = 30s; }};
    h.add_webhook();
    const std::string id = h.publish();
    REQUIRE(h.run_until([&] { return server.requests().size() == 1; }));

    bool stopped = false;
    const auto started = std::chrono::steady_clock::now();
    h.engine->dispatcher().async_stop(200ms, [&](boost::system::error_code ec) {
        CHECK_FALSE(ec);
        stopped = true;
    });
    REQUIRE(h.run_until([&] { return stopped; }));
    CHECK(std::chrono::steady_clock::now() - started < 5s);
    CHECK(h.firing(id).status == FiringStatus::pending);
    CHECK(h.firing(id).attempts.empty());
    CHECK(h.storage->outbox().pending_count() == 1);
    CHECK(h.storage->outbox().next_due() == h.clock->now());
}

TEST_CASE("deleting an automation lets its in-flight delivery finish", "[dispatcher]") {
    TestServer server;
    server.set_fault(Fault::server_error);
    Harness h{server};
    h.add_webhook();
    const std::string id = h.publish_and_attempt();
    h.engine->automations().remove(admin, h.automation_id);
    server.set_fault(Fault::ok);
    h.advance_to_due();
    REQUIRE(h.run_until([&] { return h.firing(id).status == FiringStatus::finished; }));
}

TEST_CASE("launch jobs are retried and recorded like webhooks", "[dispatcher]") {
    TestServer server;
    Harness h{server};
    h.add_automation(
        herald::action::LaunchJob{.queue = "gpu",
                                  .job = "retrain",
                                  .job_version = "v2",
                                  .project = "mnist",
                                  .override = R"({"override": {"alias": "${alias}"}})"});
    h.jobs->enqueue_results({herald::JobResult{.retry = true, .error = "queue full"}});
    const std::string id = h.publish_and_attempt();
    CHECK(h.firing(id).status == FiringStatus::pending);
    CHECK(h.firing(id).attempts[0].error == "queue full");
    h.advance_to_due();
    REQUIRE(h.run_until([&] { return h.firing(id).status == FiringStatus::finished; }));

    const auto jobs = h.jobs->submissions();
    REQUIRE(jobs.size() == 2);
    CHECK(jobs[0].delivery_id == id);
    CHECK(jobs[1].delivery_id == id);
    CHECK(jobs[1].attempt == 2);
    CHECK(jobs[1].queue == "gpu");
    CHECK(jobs[1].override_json == R"({"alias":"production"})");

    // The job carries the firing's context beside the override.
    CHECK(jobs[1].automation_id == h.automation_id);
    CHECK(jobs[1].automation_name == "on-production");
    CHECK(jobs[1].event.author == "grace");
    CHECK(jobs[1].event.project == "reg");
    const auto* alias = std::get_if<herald::AliasAdded>(&jobs[1].event.body);
    REQUIRE(alias);
    CHECK(alias->alias == "production");
    CHECK(alias->version.collection == "clf");
    CHECK_FALSE(jobs[1].metric);

    h.jobs->enqueue_results({herald::JobResult{.error = "no such job"}});
    const std::string failed = h.publish();
    REQUIRE(h.run_until([&] { return h.firing(failed).status == FiringStatus::failed; }));
}

TEST_CASE("a test request goes through the same path and leaves no history", "[dispatcher]") {
    TestServer server;
    Harness h{server};
    h.add_webhook();
    std::optional<herald::WebhookTestResult> result;
    h.engine->dispatcher().async_test_webhook(
        admin,
        *h.engine->integrations().get(admin, "acme", "deploy").get_if<herald::WebhookIntegration>(),
        R"({"ping": "${TOKEN}"})", [&](boost::system::error_code ec, herald::WebhookTestResult r) {
            CHECK_FALSE(ec);
            result = std::move(r);
        });
    REQUIRE(h.run_until([&] { return result.has_value(); }));
    CHECK(result->status == 200);
    CHECK(result->body == "ok");
    REQUIRE(server.requests().size() == 1);
    CHECK(server.requests()[0].body == R"({"ping":")" + access_token + "\"}");
    CHECK(server.requests()[0].header("X-Wandb-Signature") ==
          herald::detail::wandb_signature(server.requests()[0].body, signing_key));
    CHECK(h.engine->history().by_automation(h.automation_id).empty());

    // SSRF rules apply: a destination that is not allow-listed is refused, with the rule.
    std::optional<herald::WebhookTestResult> refused;
    h.engine->dispatcher().async_test_webhook(
        admin, herald::WebhookIntegration{.entity = "acme", .name = "x", .url = "http://10.0.0.1/"},
        "{}",
        [&](boost::system::error_code, herald::WebhookTestResult r) { refused = std::move(r); });
    REQUIRE(h.run_until([&] { return refused.has_value(); }));
    CHECK(refused->status == 0);
    CHECK(refused->error.find("ssrf") != std::string::npos);
}

TEST_CASE("a Slack message goes to chat.postMessage as Block Kit", "[dispatcher]") {
    TestServer unused;
    FixedAnswerServer slack{http_answer("200 OK", R"({"ok": true, "ts": "1.2"})")};
    Harness h{unused, [](herald::EngineConfig& c) {
                  c.dispatch.link_builder = [](const herald::Firing& f) {
                      return "https://tracker.example/" + f.event.project;
                  };
              }};
    add_slack(h, slack.port());
    const std::string id = h.publish();
    REQUIRE(h.run_until([&] { return h.firing(id).status == FiringStatus::finished; }));
    const auto requests = slack.requests();
    REQUIRE(requests.size() == 1);
    const std::string& r = requests[0];
    CHECK(r.starts_with("POST /api/chat.postMessage HTTP/1.1"));
    CHECK(r.find("Authorization: Bearer xoxb-bot-token") != std::string::npos);
    const std::string body = r.substr(r.find("\r\n\r\n") + 4);
    const auto message = boost::json::parse(body).as_object();
    CHECK(message.at("channel") == "#ml");
    const auto& blocks = message.at("blocks").as_array();
    CHECK(blocks.at(0).at("text").at("text") == "production on clf");
    CHECK(blocks.at(1).at("text").at("text") == "by grace &lt;b&gt;");
    const std::string fields = boost::json::serialize(blocks.at(2));
    CHECK(fields.find("WARN") != std::string::npos);
    CHECK(fields.find("acme/reg") != std::string::npos);
    CHECK(fields.find("grace") != std::string::npos);
    CHECK(boost::json::serialize(blocks.back()).find("https://tracker.example/reg") !=
          std::string::npos);
    CHECK(h.firing(id).payload.find("xoxb") == std::string::npos);
}

TEST_CASE("Slack's ok:false fails, its rate limit retries", "[dispatcher]") {
    TestServer unused;
    SECTION("a permanent error fails") {
        FixedAnswerServer slack{
            http_answer("200 OK", R"({"ok": false, "error": "channel_not_found"})")};
        Harness h{unused};
        add_slack(h, slack.port());
        const std::string id = h.publish();
        REQUIRE(h.run_until([&] { return h.firing(id).status == FiringStatus::failed; }));
        CHECK(h.firing(id).attempts[0].error == "slack: channel_not_found");
    }
    SECTION("ratelimited retries") {
        FixedAnswerServer slack{http_answer("200 OK", R"({"ok": false, "error": "ratelimited"})")};
        Harness h{unused};
        add_slack(h, slack.port());
        const std::string id = h.publish_and_attempt();
        CHECK(h.firing(id).status == FiringStatus::pending);
        CHECK(h.firing(id).attempts[0].error == "slack: ratelimited");
    }
    SECTION("429 with Retry-After retries when asked") {
        FixedAnswerServer slack{http_answer("429 Too Many Requests",
                                            R"({"ok": false, "error": "ratelimited"})",
                                            "Retry-After: 30\r\n")};
        Harness h{unused};
        add_slack(h, slack.port());
        const std::string id = h.publish_and_attempt();
        CHECK(h.firing(id).status == FiringStatus::pending);
        CHECK(wait_before_retry(h) == 30s);
    }
}

TEST_CASE("stalled endpoints do not hold up a healthy one", "[dispatcher]") {
    // 100 endpoints (names of one stalling receiver) hold their requests until the total
    // timeout; deliveries to a healthy receiver published after them still arrive at once.
    TestServer stalling;
    stalling.set_fault(Fault::stall);
    TestServer healthy;
    std::vector<std::string> names;
    for (int i = 0; i < 100; ++i)
        names.push_back("stall" + std::to_string(i) + ".test");
    Harness h{healthy, [](herald::EngineConfig& c) { c.dispatch.http.total_timeout = 60s; }, names};
    for (int i = 0; i < 100; ++i)
        h.add_plain_webhook("stall-" + std::to_string(i),
                            "http://" + names[i] + ":" + std::to_string(stalling.port()) + "/hook");
    h.add_webhook();
    std::vector<std::string> healthy_ids;
    const auto started = std::chrono::steady_clock::now();
    for (int round = 0; round < 3; ++round) {
        auto receipt =
            h.engine->publish(herald::test::alias_added("acme", "reg", "clf", "production"));
        REQUIRE(receipt.firings.size() == 101);
        for (const auto& f : receipt.firings)
            if (f.integration == "deploy")
                healthy_ids.push_back(f.id);
    }
    REQUIRE(h.run_until([&] {
        return std::all_of(healthy_ids.begin(), healthy_ids.end(), [&](const std::string& id) {
            return h.firing(id).status == FiringStatus::finished;
        });
    }));
    const auto healthy_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::steady_clock::now() - started)
                                .count();
    CHECK(healthy_ms < 5000);
    REQUIRE(h.run_until([&] { return stalling.requests().size() == 300; }));
    CHECK(h.storage->outbox().pending_count() == 300);
}

// The descriptors this process has open: herald's sockets, and the receiver's ends of them,
// since the test receiver runs in a thread here.
std::size_t open_descriptors() {
    const std::filesystem::directory_iterator fds{"/proc/self/fd"};
    return static_cast<std::size_t>(std::distance(begin(fds), end(fds)));
}

TEST_CASE("10000 endpoints are delivered to within the connection bounds", "[dispatcher]") {
    // 10,000 host names, each an endpoint of its own (slots, breaker, pool), all resolving to
    // one receiver on loopback, one automation each, all firing on one event. Herald holds at
    // most `max_in_flight_total` connections in flight and as many idle, whatever the number of
    // endpoints; the receiver holds the other end of each, and may not yet have seen a few
    // closed (`slack`).
    constexpr std::size_t endpoints = 10'000;
    constexpr std::size_t connections = 32;  // max_in_flight_total
    constexpr std::size_t slack = connections;
    TestServer server;
    std::vector<std::string> names;
    for (std::size_t i = 0; i < endpoints; ++i)
        names.push_back("h" + std::to_string(i) + ".hook.test");
    std::size_t finished = 0;
    Harness h{server,
              [&](herald::EngineConfig& c) {
                  c.dispatch.http.max_in_flight_total = connections;
                  c.dispatch.http.total_timeout = 60s;
                  c.dispatch.http.idle_timeout = 200ms;
                  c.dispatch.on_settled = [&](const herald::DeliverySettled& s) {
                      finished += s.status == FiringStatus::finished ? 1 : 0;
                  };
              },
              names};
    for (std::size_t i = 0; i < endpoints; ++i)
        h.add_plain_webhook("hook-" + std::to_string(i),
                            "http://" + names[i] + ":" + std::to_string(server.port()) + "/hook");
    const std::size_t baseline = open_descriptors();
    const auto receipt =
        h.engine->publish(herald::test::alias_added("acme", "reg", "clf", "production"));
    REQUIRE(receipt.firings.size() == endpoints);

    std::size_t peak = baseline;
    const auto started = std::chrono::steady_clock::now();
    REQUIRE(h.run_until(
        [&] {
            peak = std::max(peak, open_descriptors());
            return finished == endpoints;
        },
        300s, 1ms));
    const auto run_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    const std::size_t idle_after_run = server.connections_open();
    const auto requests = server.requests();
    std::set<std::string> hosts;
    for (const auto& request : requests)
        hosts.insert(request.header("Host"));
    INFO("run " << run_ms.count() << " ms, descriptors " << baseline << " before, peak " << peak
                << "; receiver's peak " << server.peak_connections_open() << ", " << idle_after_run
                << " open after the run, " << server.connections_accepted() << " accepted");
    CHECK(requests.size() == endpoints);
    CHECK(hosts.size() == endpoints);
    CHECK(server.peak_connections_open() <= 2 * connections + slack);
    CHECK(peak - baseline <= 2 * (2 * connections) + slack);
    // Nothing is in flight now: what is open is herald's idle pool, closed at the idle timeout.
    CHECK(idle_after_run <= connections + slack);
    CHECK(h.run_until([&] { return server.connections_open() == 0; }));
    CHECK(h.run_until([&] { return open_descriptors() <= baseline; }));
    // Endpoints that are done with and healthy leave no state behind.
    const auto tracked = h.engine->metrics().value("herald_endpoints_tracked");
    REQUIRE(tracked);
    CHECK(*tracked == 0);
}

TEST_CASE("an endpoint takes 8 at once, 8 wait their turn, the rest wait in the outbox",
          "[dispatcher]") {
    TestServer server;
    Harness h{server, [](herald::EngineConfig& c) { c.dispatch.max_waiting_per_endpoint = 8; }};
    h.add_webhook();
    std::vector<std::string> ids;
    for (int i = 0; i < 20; ++i)
        ids.push_back(h.publish());
    const auto finished = [&] {
        return std::count_if(ids.begin(), ids.end(), [&](const std::string& id) {
            return h.firing(id).status == FiringStatus::finished;
        });
    };
    REQUIRE(h.run_until([&] { return finished() == 16; }));
    h.io.run_for(100ms);
    CHECK(finished() == 16);
    CHECK(h.storage->outbox().pending_count() == 4);
    CHECK(h.storage->outbox().next_due() == h.clock->now() + 20ms);  // the poll interval
    h.advance_to_due();
    REQUIRE(h.run_until([&] { return finished() == 20; }));
    for (const std::string& id : ids)
        CHECK(h.firing(id).attempts.size() == 1);
}

TEST_CASE("an endpoint that keeps failing is paused without using up attempts", "[dispatcher]") {
    TestServer server;
    server.set_fault(Fault::server_error);
    Harness h{server, [](herald::EngineConfig& c) {
                  c.dispatch.breaker = {.failure_threshold = 2, .open_for = 60s};
              }};
    h.add_webhook();
    // The endpoint's state is kept while its breaker remembers a failure, so it opens even
    // though the failures come one at a time; a success lets it go.
    const auto tracked = [&] {
        return h.engine->metrics().value("herald_endpoints_tracked").value_or(-1);
    };
    const std::string first = h.publish_and_attempt();
    CHECK(tracked() == 1);
    const std::string second = h.publish_and_attempt();  // the second failure opens the breaker
    const std::string third = h.publish();
    h.io.run_for(100ms);
    CHECK(h.firing(third).attempts.empty());
    CHECK(h.firing(third).status == FiringStatus::pending);
    CHECK(server.requests().size() == 2);

    // After open_for one probe goes out; its success closes the breaker.
    server.set_fault(Fault::ok);
    h.clock->advance(60s);
    h.engine->dispatcher().wake();
    REQUIRE(h.run_until([&] {
        return h.firing(first).status == FiringStatus::finished &&
               h.firing(second).status == FiringStatus::finished &&
               h.firing(third).status == FiringStatus::finished;
    }));
    CHECK(h.firing(third).attempts.size() == 1);
    CHECK(h.firing(third).attempts[0].number == 1);
    CHECK(tracked() == 0);
}

TEST_CASE("a delivery claimed by a claimer that died is sent when its lease ends", "[dispatcher]") {
    TestServer server;
    Harness h{server};
    h.engine->dispatcher().async_stop(0ms, [](boost::system::error_code) {});
    h.io.run_for(50ms);
    h.add_webhook();
    const std::string id = h.publish();
    // Another process claims it and dies.
    REQUIRE(h.storage->outbox().claim(h.clock->now(), 10, h.clock->now() + 5min).size() == 1);

    Harness restarted{server, sharing(h)};
    restarted.io.run_for(100ms);
    CHECK(server.requests().empty());
    h.clock->advance(5min);
    restarted.engine->dispatcher().wake();
    REQUIRE(restarted.run_until([&] { return h.firing(id).status == FiringStatus::finished; }));
    CHECK(server.requests().size() == 1);
}

TEST_CASE("a receiver's echo of a secret is masked in the history", "[dispatcher]") {
    TestServer unused;
    FixedAnswerServer echo{http_answer("200 OK", "got token " + access_token)};
    Harness h{unused};
    h.engine->integrations().create(
        admin, herald::WebhookIntegration{.entity = "acme",
                                          .name = "echo",
                                          .url = "http://hook.test:" + std::to_string(echo.port()),
                                          .access_token = "TOKEN"});
    h.add_automation(herald::action::Webhook{.integration = "echo", .payload = "{}"});
    const std::string id = h.publish();
    REQUIRE(h.run_until([&] { return h.firing(id).status == FiringStatus::finished; }));
    CHECK(h.firing(id).attempts[0].response_body == "got token ********");
}

/// A harness over a FlakyStorage, keeping what `on_storage_error` reported.
struct FlakyRig {
    explicit FlakyRig(TestServer& server,
                      const std::function<void(herald::EngineConfig&)>& tweak = {})
        : h{server, [&](herald::EngineConfig& c) {
                flaky = std::make_shared<FlakyStorage>(
                    std::static_pointer_cast<herald::MemoryStorage>(c.storage));
                c.storage = flaky;
                c.dispatch.on_storage_error = [this](const herald::StorageFailure& f) {
                    failures.push_back(f);
                };
                if (tweak)
                    tweak(c);
            }} {}

    std::shared_ptr<FlakyStorage> flaky;  // before `h`: set while it is built
    std::vector<herald::StorageFailure> failures;
    Harness h;
};

TEST_CASE("a failing claim is reported and retried with backoff, then delivers", "[dispatcher]") {
    TestServer server;
    FlakyRig rig{server};
    auto& [flaky, failures, h] = rig;
    h.add_webhook();
    flaky->fail_claims = true;
    const std::string id = h.publish();
    h.io.run_for(300ms);
    REQUIRE(!failures.empty());
    CHECK(failures.front().operation == "claim");
    CHECK(failures.front().reason.find("disk I/O error") != std::string::npos);
    CHECK(failures.front().retry_in == 10ms);
    // Waits 10 ms, then 20 ms (the harness's poll interval) between tries: no spinning.
    CHECK(flaky->claims < 30);
    CHECK(server.requests().empty());

    flaky->fail_claims = false;
    REQUIRE(h.run_until([&] { return h.firing(id).status == FiringStatus::finished; }));
    CHECK(server.requests().size() == 1);
}

TEST_CASE("destroying the engine waits for the answer to a claim under way", "[dispatcher]") {
    // The store answers from its own thread through the engine's executor: once the engine's
    // destructor returns, the host may destroy the executor's context, so no answer may come
    // after it.
    auto flaky =
        std::make_shared<herald::test::FlakyStorage>(std::make_shared<herald::MemoryStorage>());
    flaky->hold_claims = true;
    std::atomic<bool> destroyed = false;
    {
        asio::io_context io;
        auto engine = std::make_unique<herald::Engine>(io.get_executor(),
                                                       herald::EngineConfig{.storage = flaky});
        while (!flaky->claim_held())
            io.run_one_for(10ms);
        std::thread destroyer([&] {
            engine.reset();
            destroyed = true;
        });
        std::this_thread::sleep_for(100ms);
        CHECK_FALSE(destroyed);
        flaky->answer_held_claim();
        destroyer.join();
        CHECK(destroyed);
    }
    CHECK(flaky->claims == 1);
}

TEST_CASE("a settle that fails is written again, the delivery not sent again", "[dispatcher]") {
    TestServer server;
    FlakyRig rig{server};
    auto& [flaky, failures, h] = rig;
    h.add_webhook();
    flaky->fail_settles = true;
    const std::string id = h.publish();
    REQUIRE(h.run_until([&] { return failures.size() >= 3; }));
    CHECK(failures.front().operation == "settle");
    CHECK(h.firing(id).status == FiringStatus::pending);  // nothing written yet
    CHECK(h.storage->outbox().pending_count() == 1);

    flaky->fail_settles = false;
    REQUIRE(h.run_until([&] { return h.firing(id).status == FiringStatus::finished; }));
    CHECK(h.firing(id).attempts.size() == 1);
    CHECK(server.requests().size() == 1);
    CHECK(h.storage->outbox().pending_count() == 0);
}

/// Runs `h`'s io_context on a thread of its own until destroyed: a second replica beside the
/// one the test thread runs.
class Beside {
  public:
    explicit Beside(Harness& h)
        : thread_([this, &h] {
              while (!done_)
                  h.io.run_for(20ms);
          }) {}
    ~Beside() {
        done_ = true;
        thread_.join();
    }

  private:
    std::atomic<bool> done_ = false;
    std::thread thread_;
};

/// Real time, a lease shorter than the receiver takes to answer, and a timeout longer.
void slow_receiver_config(herald::EngineConfig& c) {
    c.clock = std::make_shared<herald::SystemClock>();
    c.dispatch.lease = 600ms;
    c.dispatch.http.total_timeout = 5s;
}

TEST_CASE("a delivery slower than its lease keeps it: a second dispatcher does not send it again",
          "[dispatcher][lease]") {
    TestServer server{{.fault = Fault::slow}};
    server.set_delay(1500ms);
    Harness a{server, slow_receiver_config};
    a.add_webhook();
    Harness b{server, sharing(a, slow_receiver_config)};
    const std::string id = a.publish();
    {
        const Beside replica{b};
        REQUIRE(a.run_until([&] { return a.firing(id).status == FiringStatus::finished; }));
        a.io.run_for(700ms);  // a lease past the answer: nothing is claimed again
    }
    CHECK(server.requests().size() == 1);
    CHECK(a.firing(id).attempts.size() == 1);
    CHECK(a.storage->outbox().pending_count() == 0);
}

TEST_CASE("a dispatcher that lost its lease records nothing of what it learned",
          "[dispatcher][lease]") {
    TestServer server{{.fault = Fault::slow}};
    server.set_delay(1500ms);
    herald::test::LogCapture logs;
    FlakyRig rig{server, [&](herald::EngineConfig& c) {
                     slow_receiver_config(c);
                     c.logger = logs.logger(herald::LogLevel::warning);
                 }};
    auto& [flaky, failures, a] = rig;
    a.add_webhook();
    // The first dispatcher sends, then cannot write: its renewals fail, its lease ends.
    flaky->fail_settles = true;
    const std::string id = a.publish();
    REQUIRE(a.run_until([&] { return server.requests().size() == 1; }));
    Harness b{server, sharing(a, slow_receiver_config)};
    const Beside replica{b};
    REQUIRE(a.run_until([&] { return server.requests().size() == 2; }));  // taken over
    flaky->fail_settles = false;
    REQUIRE(a.run_until([&] { return !logs.of("delivery.lease_lost").empty(); }));
    CHECK(logs.of("delivery.lease_lost").front().fields.at("delivery") == id);
    REQUIRE(a.run_until([&] { return a.firing(id).status == FiringStatus::finished; }));
    a.io.run_for(100ms);

    // One attempt recorded, the second claimer's; both requests carried the one delivery id.
    CHECK(a.firing(id).attempts.size() == 1);
    const auto requests = server.requests();
    REQUIRE(requests.size() == 2);
    CHECK(requests[0].header("webhook-id") == requests[1].header("webhook-id"));
    CHECK(logs.of("delivery.lease_lost").size() == 1);
    CHECK(a.engine->metrics().value("herald_leases_lost_total") == 1);
}

TEST_CASE("a storage error while preparing a delivery retries it, not fails it", "[dispatcher]") {
    TestServer server;
    FlakyRig rig{server};
    auto& [flaky, failures, h] = rig;
    h.add_webhook();
    flaky->fail_integration_reads = true;
    const std::string id = h.publish();
    REQUIRE(h.run_until([&] { return !failures.empty(); }));
    CHECK(failures.front().operation == "prepare");
    CHECK(h.firing(id).status == FiringStatus::pending);
    CHECK(h.firing(id).attempts.empty());

    flaky->fail_integration_reads = false;
    h.clock->advance(1s);
    h.engine->dispatcher().wake();
    REQUIRE(h.run_until([&] { return h.firing(id).status == FiringStatus::finished; }));
    CHECK(h.firing(id).attempts.size() == 1);
    CHECK(h.firing(id).attempts[0].number == 1);
}

TEST_CASE("while the breaker's probe is out, the endpoint's other deliveries wait for it",
          "[dispatcher]") {
    TestServer server;
    server.set_fault(Fault::server_error);
    FlakyRig rig{server, [](herald::EngineConfig& c) {
                     c.dispatch.breaker = {.failure_threshold = 1, .open_for = 60s};
                     c.dispatch.http.total_timeout = 2s;
                 }};
    auto& [flaky, failures, h] = rig;
    h.add_webhook();
    h.publish_and_attempt();  // opens the breaker
    std::vector<std::string> waiting;
    for (int i = 0; i < 5; ++i)
        waiting.push_back(h.publish());
    h.io.run_for(100ms);

    // The probe stalls; the others must wait for its answer, not go back to the outbox due at
    // once to be claimed again and again.
    server.set_fault(Fault::stall);
    h.clock->advance(60s);
    h.engine->dispatcher().wake();
    REQUIRE(h.run_until([&] { return server.requests().size() == 2; }));
    const int claims_before = flaky->claims;
    const int settled_before = flaky->settled;
    h.io.run_for(500ms);
    CHECK(flaky->claims - claims_before < 30);  // the poll interval's pace, not a hot loop
    CHECK(flaky->settled == settled_before);    // none of them went back to the outbox
    CHECK(server.requests().size() == 2);       // only the probe went out
    for (const std::string& id : waiting)
        CHECK(h.firing(id).attempts.size() <= 1);
}

TEST_CASE("a configured first wait delays the first attempt", "[dispatcher]") {
    TestServer server;
    Harness h{server, [](herald::EngineConfig& c) { c.dispatch.retry.schedule = {10s, 5s}; }};
    h.add_webhook();
    const std::string id = h.publish();
    h.io.run_for(200ms);
    CHECK(server.requests().empty());
    CHECK(h.storage->outbox().next_due() == h.firing(id).time + 10s);

    h.clock->advance(10s);
    h.engine->dispatcher().wake();
    REQUIRE(h.run_until([&] { return h.firing(id).status == FiringStatus::finished; }));
    CHECK(server.requests().size() == 1);
}

/// A job queue that takes every job and never answers.
class SilentJobQueue final : public herald::JobQueue {
  public:
    void async_submit(herald::JobRequest job, Handler handler) override {
        std::lock_guard lock(mutex_);
        jobs_.push_back(std::move(job));
        handlers_.push_back(std::move(handler));
    }
    std::size_t submitted() const {
        std::lock_guard lock(mutex_);
        return jobs_.size();
    }
    /// Lets go of herald's handlers: before the io_context they belong to is gone.
    void drop_handlers() {
        std::lock_guard lock(mutex_);
        handlers_.clear();
    }

  private:
    mutable std::mutex mutex_;
    std::vector<herald::JobRequest> jobs_;
    std::vector<Handler> handlers_;  // kept, never called
};

TEST_CASE("a job queue that never answers times out into a retry", "[dispatcher]") {
    TestServer server;
    auto silent = std::make_shared<SilentJobQueue>();
    Harness h{server, [&](herald::EngineConfig& c) {
                  c.job_queue = silent;
                  c.dispatch.job_timeout = 100ms;
              }};
    struct DropFirst {
        SilentJobQueue& queue;
        ~DropFirst() { queue.drop_handlers(); }
    } drop_first{*silent};  // destroyed before `h`
    h.add_automation(herald::action::LaunchJob{
        .queue = "gpu", .job = "retrain", .job_version = "v2", .project = "mnist"});
    const std::string id = h.publish_and_attempt();
    const herald::Firing f = h.firing(id);
    CHECK(f.status == FiringStatus::pending);  // retried on the schedule
    CHECK(f.attempts[0].error == "the job queue did not answer within 100 ms");
    h.advance_to_due();
    REQUIRE(h.run_until_attempts(id, 2));
    CHECK(silent->submitted() == 2);
}

TEST_CASE("without a payload, the default body with every variable of the trigger is sent",
          "[dispatcher]") {
    TestServer server;
    Harness h{server};
    h.add_webhook_integration();
    h.add_automation(herald::action::Webhook{.integration = "deploy"});
    const std::string id = h.publish();
    REQUIRE(h.run_until([&] { return h.firing(id).status == FiringStatus::finished; }));
    const auto requests = server.requests();
    REQUIRE(requests.size() == 1);
    const auto& r = requests[0];
    CHECK(r.header("X-Wandb-Signature") == herald::detail::wandb_signature(r.body, signing_key));
    const boost::json::object body = boost::json::parse(r.body).as_object();
    CHECK(body.at("event_type") == "ADD_ARTIFACT_ALIAS");
    CHECK(body.at("event_author") == "grace");
    CHECK(body.at("automation_name") == "on-production");
    CHECK(body.at("alias") == "production");
    CHECK(body.at("artifact_version_string") == "acme/reg/clf:production");
    CHECK(body.at("artifact_metadata").is_object());
    CHECK(body.at("event_id").as_string() == h.firing(id).event.id);
    CHECK_FALSE(body.contains("tag"));
    CHECK_FALSE(body.contains("run_id"));
    CHECK(body.size() == 13);
    CHECK(h.firing(id).payload == r.body);  // no secrets: the history shows it as sent
}

TEST_CASE("a Slack integration is test-sent like a webhook, its refusals reported",
          "[dispatcher]") {
    TestServer unused;
    SECTION("through chat.postMessage") {
        FixedAnswerServer slack{http_answer("200 OK", R"({"ok": true, "ts": "1.2"})")};
        Harness h{unused};
        add_slack(h, slack.port());
        const auto integration = *h.engine->integrations()
                                      .get(admin, "acme", "alerts")
                                      .get_if<herald::SlackIntegration>();
        std::optional<herald::WebhookTestResult> result;
        h.engine->dispatcher().async_test_slack(
            admin, integration, "", "hello <!channel> from ${entity_name}",
            [&](boost::system::error_code ec, herald::WebhookTestResult r) {
                CHECK_FALSE(ec);
                result = std::move(r);
            });
        REQUIRE(h.run_until([&] { return result.has_value(); }));
        CHECK(result->status == 200);
        CHECK(result->error.empty());
        const auto requests = slack.requests();
        REQUIRE(requests.size() == 1);
        const std::string& request = requests[0];
        CHECK(request.starts_with("POST /api/chat.postMessage HTTP/1.1"));
        CHECK(request.find("Authorization: Bearer xoxb-bot-token") != std::string::npos);
        const auto message =
            boost::json::parse(request.substr(request.find("\r\n\r\n") + 4)).as_object();
        CHECK(message.at("channel") == "#ml");
        const auto& blocks = message.at("blocks").as_array();
        CHECK(blocks.at(0).at("type") == "section");  // a blank title: no header
        CHECK(blocks.at(0).at("text").at("text") == "hello &lt;!channel&gt; from acme");
        CHECK(boost::json::serialize(blocks.at(1)).find("herald test message") !=
              std::string::npos);
        CHECK(h.storage->outbox().pending_count() == 0);
        CHECK(h.engine->history().by_automation(h.automation_id).empty());

        // A secret in a chat template is refused before anything is sent.
        std::optional<boost::system::error_code> refused;
        std::string why;
        h.engine->dispatcher().async_test_slack(
            admin, integration, "t", "${SLACK_BOT}",
            [&](boost::system::error_code ec, herald::WebhookTestResult r) {
                refused = ec;
                why = r.error;
            });
        REQUIRE(h.run_until([&] { return refused.has_value(); }));
        CHECK(*refused == herald::make_error_code(herald::errc::invalid_argument));
        CHECK_THAT(why, Catch::Contains("${SLACK_BOT} is not a template variable"));
        CHECK(slack.requests().size() == 1);
    }
    SECTION("Slack's ok:false is the result's error") {
        FixedAnswerServer slack{
            http_answer("200 OK", R"({"ok": false, "error": "channel_not_found"})")};
        Harness h{unused};
        add_slack(h, slack.port());
        std::optional<herald::WebhookTestResult> result;
        h.engine->dispatcher().async_test_slack(
            admin,
            *h.engine->integrations()
                 .get(admin, "acme", "alerts")
                 .get_if<herald::SlackIntegration>(),
            "Test", "", [&](boost::system::error_code ec, herald::WebhookTestResult r) {
                CHECK_FALSE(ec);
                result = std::move(r);
            });
        REQUIRE(h.run_until([&] { return result.has_value(); }));
        CHECK(result->status == 200);
        CHECK(result->error == "slack: channel_not_found");
    }
    SECTION("only an entity admin may test-send") {
        FixedAnswerServer slack{http_answer("200 OK", R"({"ok": true})")};
        Harness h{unused};
        add_slack(h, slack.port());
        std::optional<boost::system::error_code> denied;
        h.engine->dispatcher().async_test_slack(
            herald::Principal{.user = "eve", .roles = {herald::Role::entity_member("acme")}},
            *h.engine->integrations()
                 .get(admin, "acme", "alerts")
                 .get_if<herald::SlackIntegration>(),
            "Test", "",
            [&](boost::system::error_code ec, herald::WebhookTestResult) { denied = ec; });
        REQUIRE(h.run_until([&] { return denied.has_value(); }));
        CHECK(*denied == herald::make_error_code(herald::errc::permission_denied));
        CHECK(slack.requests().empty());
    }
}
