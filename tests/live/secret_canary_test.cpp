// The canary test through real sends: a unique secret value is the access token, the signing
// key and part of the payload; the receiver answers 500 and echoes the whole request (headers and
// body) back in its body and a header. The request carries the value; nothing herald records or
// returns does — history, attempts, errors, the test-webhook result, exceptions, every log
// record on every path (send, failure, test webhook, replay, Slack, launch job, store errors)
// and the labels of the metrics.
//
// The receiver is started by the test: EchoServer below listens on 127.0.0.1 on an ephemeral port
// in its own thread. The integration's host "hook.test" maps to it through a StaticResolver and
// the SSRF allow-list. Run: build-dir/tests/herald_live_tests "[canary]"
#include "support/event_builders.hpp"
#include "support/flaky_storage.hpp"
#include "support/log_capture.hpp"

#include <herald/engine.hpp>
#include <herald/error.hpp>
#include <herald/memory_storage.hpp>
#include <herald/resolver.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

const std::string canary = "canary-live-8d3e61f2-0b7c-4f95-a1d4-5c2b9e7f3a10";
const herald::Principal admin = herald::test::admin_of("acme");

/// Answers every request with 500, echoing the request in the body and its Authorization header
/// in an `X-Echo` header, then closes the connection.
class EchoServer {
  public:
    EchoServer()
        : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}), thread_([this] { serve(); }) {}
    ~EchoServer() {
        stopping_ = true;
        boost::system::error_code ec;
        asio::ip::tcp::socket wake(io_);
        wake.connect(acceptor_.local_endpoint(), ec);  // ends the blocking accept
        thread_.join();
    }
    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
    /// Everything received, in order.
    std::string received() const {
        std::lock_guard lock(mutex_);
        return received_;
    }

  private:
    void serve() {
        while (!stopping_) {
            boost::system::error_code ec;
            asio::ip::tcp::socket socket(io_);
            acceptor_.accept(socket, ec);
            if (ec || stopping_)
                return;
            const std::string request = read_request(socket);
            {
                std::lock_guard lock(mutex_);
                received_ += request;
            }
            const std::string echoed_header = authorization_of(request);
            const std::string answer =
                "HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\nX-Echo: " +
                echoed_header + "\r\nContent-Length: " + std::to_string(request.size()) +
                "\r\n\r\n" + request;
            asio::write(socket, asio::buffer(answer), ec);
        }
    }

    static std::string authorization_of(const std::string& request) {
        const std::size_t at = request.find("Authorization: ");
        return at == std::string::npos ? std::string()
                                       : request.substr(at, request.find('\r', at) - at);
    }

    static std::string read_request(asio::ip::tcp::socket& socket) {
        boost::system::error_code ec;
        asio::streambuf buffer;
        asio::read_until(socket, buffer, "\r\n\r\n", ec);
        std::string data(asio::buffers_begin(buffer.data()), asio::buffers_end(buffer.data()));
        const std::size_t head_end = data.find("\r\n\r\n");
        const std::size_t length_at = data.find("Content-Length: ");
        if (head_end == std::string::npos || length_at == std::string::npos)
            return data;
        const std::size_t total = head_end + 4 + std::stoul(data.substr(length_at + 16));
        if (data.size() < total)
            asio::read(socket, buffer, asio::transfer_exactly(total - data.size()), ec);
        return {asio::buffers_begin(buffer.data()), asio::buffers_end(buffer.data())};
    }

    asio::io_context io_;
    asio::ip::tcp::acceptor acceptor_;
    mutable std::mutex mutex_;
    std::string received_;
    std::atomic<bool> stopping_ = false;
    std::thread thread_;
};

/// What both canary tests run: loopback allowed, "hook.test" on 127.0.0.1, every log record
/// kept by `logs`.
herald::EngineConfig canary_config(asio::io_context& io, std::shared_ptr<herald::Storage> storage,
                                   const herald::test::LogCapture& logs) {
    herald::EngineConfig config{.storage = std::move(storage),
                                .clock = std::make_shared<herald::ManualClock>(herald::Timestamp{
                                    std::chrono::sys_days{std::chrono::year{2026} / 11 / 22}}),
                                .logger = logs.logger()};
    config.dispatch.http.ssrf.allowed_subnets = {"127.0.0.0/8"};
    config.dispatch.poll_interval = 20ms;
    config.resolver = std::make_shared<herald::StaticResolver>(
        io.get_executor(),
        herald::StaticResolver::Table{{"hook.test", {asio::ip::make_address("127.0.0.1")}}});
    return config;
}

/// Runs `io` until `done` holds; false after 15 s.
bool run_until(asio::io_context& io, const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    while (!done() && std::chrono::steady_clock::now() < deadline)
        io.run_for(5ms);
    return done();
}

}  // namespace

TEST_CASE("canary: a secret sent to an echoing receiver appears nowhere herald records",
          "[canary][secrets]") {
    EchoServer receiver;
    asio::io_context io;
    auto storage = std::make_shared<herald::MemoryStorage>();
    herald::test::LogCapture logs;
    std::optional<herald::Engine> engine;
    engine.emplace(io.get_executor(), canary_config(io, storage, logs));

    engine->secrets().put(admin, "acme", "CANARY", canary);
    herald::WebhookIntegration hook{
        .entity = "acme",
        .name = "echo",
        .url = "http://hook.test:" + std::to_string(receiver.port()) + "/hook",
        .access_token = "CANARY",
        .signature = herald::SignatureScheme::github,
        .signing_secret = "CANARY"};
    engine->integrations().create(admin, hook);
    const herald::Automation automation = engine->automations().create(
        admin,
        herald::Automation{
            .name = "ship",
            .scope = herald::Scope::for_project("acme", "reg"),
            .trigger = herald::trigger::AddArtifactAlias{.alias = herald::Pattern{"production"}},
            .action = herald::action::Webhook{
                .integration = "echo",
                .payload = R"({"k": "${CANARY}", "t": "Bearer ${ACCESS_TOKEN}"})"}});

    std::string produced;  // everything herald recorded or returned
    const auto receipt =
        engine->publish(herald::test::alias_added("acme", "reg", "clf", "production"));
    REQUIRE(receipt.firings.size() == 1);
    const std::string id = receipt.firings.front().id;
    REQUIRE(run_until(io, [&] {
        const auto f = storage->history().find(id);
        return f && !f->attempts.empty();
    }));

    // Test webhook: what it returns (status, headers, body, error) is shown to the admin.
    const auto test_send = [&] {
        std::optional<herald::WebhookTestResult> result;
        engine->dispatcher().async_test_webhook(
            admin, hook, R"({"ping": "${CANARY}"})",
            [&](boost::system::error_code ec, herald::WebhookTestResult r) {
                produced += ec.message();
                result = std::move(r);
            });
        REQUIRE(run_until(io, [&] { return result.has_value(); }));
        produced += result->body + result->error;
        for (const auto& [name, value] : result->headers)
            produced += name + ": " + value + "\n";
        return *result;
    };
    const herald::WebhookTestResult tested = test_send();
    CHECK(tested.body.find("********") != std::string::npos);  // the echo, redacted

    // The requests carried the value (so the test can see it if herald leaked it).
    REQUIRE(receiver.received().find(canary) != std::string::npos);

    const herald::Firing firing = *storage->history().find(id);
    CHECK(firing.attempts.front().status_code == 500);
    produced += firing.payload + firing.reason;
    for (const herald::DeliveryAttempt& a : firing.attempts)
        produced += a.error + a.response_body;

    // A send after the secret is force-deleted fails without it.
    engine->secrets().remove(admin, "acme", "CANARY", true);
    test_send();

    engine.reset();
    REQUIRE(!logs.of("delivery.failed").empty());
    produced += logs.text();
    const bool leaked = produced.find(canary) != std::string::npos;
    CHECK_FALSE(leaked);  // a bool, so a failure does not print the value either
}

namespace {

/// Refuses every job, echoing what it was handed (the override, with the secret) in its error.
class EchoingJobQueue final : public herald::JobQueue {
  public:
    explicit EchoingJobQueue(asio::any_io_executor executor) : executor_(std::move(executor)) {}
    void async_submit(herald::JobRequest job, Handler handler) override {
        asio::post(executor_, [job = std::move(job), handler = std::move(handler)]() mutable {
            std::move(handler)(herald::JobResult{.error = "refused " + job.override_json});
        });
    }

  private:
    asio::any_io_executor executor_;
};

}  // namespace

TEST_CASE("canary: no log record or metric label holds the secret, on any path",
          "[canary][secrets][observability]") {
    EchoServer receiver;
    asio::io_context io;
    auto storage =
        std::make_shared<herald::test::FlakyStorage>(std::make_shared<herald::MemoryStorage>());
    herald::test::LogCapture logs;
    herald::EngineConfig config = canary_config(io, storage, logs);
    config.dispatch.retry = {.schedule = {0s}, .jitter = 0};  // one attempt, then dead
    config.job_queue = std::make_shared<EchoingJobQueue>(io.get_executor());
    std::optional<herald::Engine> engine;
    engine.emplace(io.get_executor(), config);
    const auto status = [&](const std::string& id) { return storage->history().find(id)->status; };
    const std::string base = "http://hook.test:" + std::to_string(receiver.port());
    engine->secrets().put(admin, "acme", "CANARY", canary);
    engine->integrations().create(
        admin, herald::WebhookIntegration{.entity = "acme",
                                          .name = "echo",
                                          .url = base + "/hook",
                                          .access_token = "CANARY",
                                          .signature = herald::SignatureScheme::github,
                                          .signing_secret = "CANARY"});
    engine->integrations().create(admin, herald::SlackIntegration{.entity = "acme",
                                                                  .name = "slack",
                                                                  .bot_token = "CANARY",
                                                                  .channel = "#ops",
                                                                  .api_base_url = base + "/api"});
    const auto automation = [&](const std::string& alias, herald::Action action) {
        engine->automations().create(
            admin,
            herald::Automation{
                .name = "on-" + alias,
                .scope = herald::Scope::for_project("acme", "reg"),
                .trigger = herald::trigger::AddArtifactAlias{.alias = herald::Pattern{alias}},
                .action = std::move(action)});
    };
    automation("hook",
               herald::action::Webhook{.integration = "echo", .payload = R"({"k": "${CANARY}"})"});
    automation("slack",
               herald::action::SlackNotification{
                   .integration = "slack", .title = "deployed", .message = "to production"});
    automation("job", herald::action::LaunchJob{.queue = "gpu",
                                                .job = "train",
                                                .project = "reg",
                                                .override = R"({"key": "${CANARY}"})"});
    const auto publish = [&](const std::string& alias) {
        auto receipt = engine->publish(herald::test::alias_added("acme", "reg", "clf", alias));
        REQUIRE(receipt.firings.size() == 1);
        return receipt.firings.front().id;
    };

    // Send and failure (dead at once), Slack, a launch job the queue refuses.
    const std::string hook = publish("hook");
    const std::string slack = publish("slack");
    const std::string job = publish("job");
    REQUIRE(run_until(io, [&] {
        return status(hook) == herald::FiringStatus::dead &&
               status(slack) == herald::FiringStatus::dead &&
               status(job) == herald::FiringStatus::failed;
    }));
    // Replay, whose settle fails at first (a store error), then is written.
    storage->fail_settles = true;
    engine->dispatcher().replay(admin, hook);
    REQUIRE(run_until(io, [&] { return !logs.of("storage.failed").empty(); }));
    storage->fail_settles = false;
    REQUIRE(run_until(io, [&] {
        return status(hook) == herald::FiringStatus::dead && !logs.of("storage.recovered").empty();
    }));
    // A test webhook through the same integration.
    bool tested = false;
    engine->dispatcher().async_test_webhook(
        admin,
        *engine->integrations().get(admin, "acme", "echo").get_if<herald::WebhookIntegration>(),
        R"({"ping": "${CANARY}"})",
        [&](boost::system::error_code, herald::WebhookTestResult) { tested = true; });
    REQUIRE(run_until(io, [&] { return tested; }));
    REQUIRE(receiver.received().find(canary) != std::string::npos);

    // Every path was logged: the test sees what it checks.
    std::size_t slack_records = 0, job_records = 0;
    for (const auto& r : logs.records()) {
        slack_records += r.fields.count("integration") && r.fields.at("integration") == "slack";
        job_records += r.fields.count("action") && r.fields.at("action") == "LAUNCH_JOB";
    }
    CHECK(slack_records > 0);
    CHECK(job_records > 0);
    CHECK(logs.of("delivery.dead").size() >= 3);  // hook, slack, the replay
    // The queue's echo reached the history masked.
    const std::optional<herald::Firing> refused = storage->history().find(job);
    REQUIRE((refused && !refused->attempts.empty()));
    CHECK(refused->attempts.front().error.find("********") != std::string::npos);

    std::string produced = logs.text() + herald::write_prometheus(engine->metrics());
    for (const std::string& id : {hook, slack, job}) {
        const std::optional<herald::Firing> firing = storage->history().find(id);
        REQUIRE(firing);
        for (const herald::DeliveryAttempt& a : firing->attempts)
            produced += a.error + a.response_body;
    }
    engine.reset();
    const bool leaked = produced.find(canary) != std::string::npos;
    CHECK_FALSE(leaked);  // a bool, so a failure does not print the value either
}
