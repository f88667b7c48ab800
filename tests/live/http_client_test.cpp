// Live tests of herald's HTTP(S) client (src/delivery/http_client.hpp) against real receivers.
//
// The servers are started by the tests themselves: each herald::test::TestServer (library
// herald_test_support, tests/support/test_server.hpp) listens on 127.0.0.1 on an ephemeral port
// in its own thread, with a TLS certificate made at start-up by the openssl command line.
// No traffic leaves loopback: every non-loopback destination below is refused before a connect.
// Run: build-dir/tests/herald_live_tests
#include "delivery/http_client.hpp"
#include "support/test_server.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <catch2/catch.hpp>

#include <optional>

namespace {

namespace asio = boost::asio;
using herald::delivery_errc;
using herald::test::Fault;
using herald::test::TestServer;
using namespace herald::detail;
using namespace std::chrono_literals;

struct Result {
    boost::system::error_code ec;
    HttpResponse response;
};

herald::DeliveryConfig loopback_config() {
    herald::DeliveryConfig config;
    config.ssrf.allowed_subnets = {"127.0.0.0/8"};
    return config;
}

// The loopback configuration, trusting the server's certificate when it has one.
herald::DeliveryConfig config_for(const TestServer& server) {
    auto config = loopback_config();
    config.ca_file = server.ca_file();
    return config;
}

HttpRequest post(const std::string& url, std::string body = R"({"hello":"world"})") {
    return {.url = boost::urls::url{url},
            .headers = {{"Content-Type", "application/json"}, {"X-Delivery-Id", "d-1"}},
            .body = std::move(body)};
}

// An HTTP client on an io_context driven by the test thread.
class Harness {
  public:
    explicit Harness(herald::DeliveryConfig config = loopback_config(),
                     herald::StaticResolver::Table names = {})
        : resolver_(std::make_shared<herald::StaticResolver>(io_.get_executor(), std::move(names))),
          client_(io_.get_executor(), std::move(config), resolver_) {}

    HttpClient& client() { return client_; }

    // Starts a request; its result lands in the returned slot when the io_context runs.
    std::shared_ptr<std::optional<Result>> start(HttpRequest request) {
        auto slot = std::make_shared<std::optional<Result>>();
        client_.async_send(std::move(request),
                           [slot](boost::system::error_code ec, HttpResponse r) {
                               slot->emplace(Result{ec, std::move(r)});
                           });
        return slot;
    }

    // Runs the io_context until `done` holds (or a generous guard time passes).
    template <class Predicate>
    bool run_until(Predicate done, std::chrono::seconds guard = 60s) {
        const auto give_up = std::chrono::steady_clock::now() + guard;
        while (!done() && std::chrono::steady_clock::now() < give_up)
            io_.run_one_for(100ms);
        return done();
    }

    Result send(HttpRequest request) {
        auto slot = start(std::move(request));
        REQUIRE(run_until([&] { return slot->has_value(); }));
        return std::move(**slot);
    }

  private:
    asio::io_context io_;
    std::shared_ptr<herald::StaticResolver> resolver_;
    HttpClient client_;
};

std::uint16_t unused_port() {
    asio::io_context io;
    asio::ip::tcp::acceptor acceptor{io, {asio::ip::make_address("127.0.0.1"), 0}};
    return acceptor.local_endpoint().port();
}

TEST_CASE("a 200 response arrives with status, headers and body, the request is as sent",
          "[live]") {
    TestServer server;
    Harness harness;
    const auto result = harness.send(post(server.url("/hook?x=1")));
    REQUIRE_FALSE(result.ec);
    CHECK(result.response.status == 200);
    CHECK(result.response.body == "ok");
    CHECK_FALSE(result.response.truncated);
    CHECK(result.response.header("content-type") == "text/plain");
    CHECK(result.response.latency > 0ns);

    const auto requests = server.requests();
    REQUIRE(requests.size() == 1);
    CHECK(requests[0].method == "POST");
    CHECK(requests[0].target == "/hook?x=1");
    CHECK(requests[0].body == R"({"hello":"world"})");
    CHECK(requests[0].header("Content-Type") == "application/json");
    CHECK(requests[0].header("X-Delivery-Id") == "d-1");
    CHECK(requests[0].header("Host") == "127.0.0.1:" + std::to_string(server.port()));
    CHECK(requests[0].header("User-Agent") == "herald/0.1");
}

TEST_CASE("error statuses are responses, not failures", "[live]") {
    TestServer server;
    Harness harness;
    SECTION("500") {
        server.set_fault(Fault::server_error);
        const auto result = harness.send(post(server.url()));
        REQUIRE_FALSE(result.ec);
        CHECK(result.response.status == 500);
    }
    SECTION("429 with Retry-After") {
        server.set_fault(Fault::too_many_requests);
        server.set_retry_after("120");
        const auto result = harness.send(post(server.url()));
        REQUIRE_FALSE(result.ec);
        CHECK(result.response.status == 429);
        CHECK(result.response.header("Retry-After") == "120");
    }
    SECTION("410") {
        server.set_fault(Fault::gone);
        const auto result = harness.send(post(server.url()));
        REQUIRE_FALSE(result.ec);
        CHECK(result.response.status == 410);
    }
}

TEST_CASE("an interim 103 answer is skipped for the final response", "[live]") {
    TestServer server{{.fault = Fault::early_hints}};
    Harness harness;
    for (int i = 0; i < 2; ++i) {  // the connection stays in step for the next request
        const auto result = harness.send(post(server.url()));
        REQUIRE_FALSE(result.ec);
        CHECK(result.response.status == 200);
        CHECK(result.response.body == "ok");
        CHECK_FALSE(result.response.header("Link"));
    }
    CHECK(server.connections_accepted() == 1);
}

TEST_CASE("a redirect is returned as it is, never followed", "[live]") {
    TestServer server{{.fault = Fault::redirect}};
    Harness harness;
    const auto result = harness.send(post(server.url()));
    REQUIRE_FALSE(result.ec);
    CHECK(result.response.status == 301);
    CHECK(result.response.header("Location") == server.url("/moved"));
    server.set_fault(Fault::ok);
    harness.send(post(server.url("/after")));
    const auto requests = server.requests();
    REQUIRE(requests.size() == 2);
    CHECK(requests[1].target == "/after");
}

TEST_CASE("a receiver that stalls or trickles past the total timeout gives a timeout", "[live]") {
    TestServer server{{.fault = GENERATE(Fault::stall, Fault::trickle)}};
    auto config = loopback_config();
    config.total_timeout = 400ms;
    Harness harness{config};
    const auto result = harness.send(post(server.url()));
    CHECK(result.ec == delivery_errc::timeout);
    CHECK(result.response.status == 0);
    CHECK_THAT(result.response.diagnostic,
               Catch::Contains("127.0.0.1:" + std::to_string(server.port())));
}

TEST_CASE("a slow-loris receiver that never ends its header gives a timeout", "[live]") {
    TestServer server{{.tls = GENERATE(false, true), .fault = Fault::slow_headers}};
    auto config = config_for(server);
    config.total_timeout = 400ms;
    Harness harness{config};
    const auto result = harness.send(post(server.url()));
    CHECK(result.ec == delivery_errc::timeout);
    CHECK(result.response.status == 0);
}

TEST_CASE("a receiver that resets halfway through its body is no response", "[live]") {
    TestServer server{{.tls = GENERATE(false, true), .fault = Fault::reset_mid_body}};
    Harness harness{config_for(server)};
    const auto result = harness.send(post(server.url()));
    CHECK(result.ec == delivery_errc::connection_reset);
    CHECK(result.response.status == 0);
    CHECK(result.response.body.empty());
}

TEST_CASE("a connection reset before the response is connection_reset", "[live]") {
    TestServer server{{.fault = Fault::reset}};
    Harness harness;
    const auto result = harness.send(post(server.url()));
    CHECK(result.ec == delivery_errc::connection_reset);
    CHECK_FALSE(result.response.diagnostic.empty());
}

TEST_CASE("a 10 MB body is cut at the bound and its connection closed", "[live]") {
    TestServer server{{.fault = Fault::huge_body}};
    auto config = loopback_config();
    config.max_response_body = 1000;
    Harness harness{config};
    const auto result = harness.send(post(server.url()));
    REQUIRE_FALSE(result.ec);
    CHECK(result.response.status == 200);
    CHECK(result.response.truncated);
    CHECK(result.response.body == std::string(1000, 'x'));

    server.set_fault(Fault::ok);
    const auto next = harness.send(post(server.url()));
    REQUIRE_FALSE(next.ec);
    CHECK(next.response.body == "ok");
    CHECK(server.connections_accepted() == 2);
}

TEST_CASE("sequential requests reuse one keep-alive connection", "[live]") {
    TestServer server;
    Harness harness;
    for (int i = 0; i < 5; ++i)
        CHECK(harness.send(post(server.url())).response.status == 200);
    CHECK(server.connections_accepted() == 1);
}

TEST_CASE("a pooled connection the receiver closed is replaced transparently", "[live]") {
    TestServer server{{.fault = Fault::ok_then_close}};
    Harness harness;
    CHECK(harness.send(post(server.url())).response.status == 200);
    server.set_fault(Fault::ok);
    const auto result = harness.send(post(server.url()));
    REQUIRE_FALSE(result.ec);
    CHECK(result.response.status == 200);
    CHECK(server.connections_accepted() == 2);
}

TEST_CASE("a request whose pooled connection fails goes once more on a fresh connection",
          "[live]") {
    TestServer server{{.fault = Fault::slow}};
    server.set_delay(200ms);
    Harness harness;
    // Three requests at once leave three connections in the pool.
    std::vector<std::shared_ptr<std::optional<Result>>> results;
    for (int i = 0; i < 3; ++i)
        results.push_back(harness.start(post(server.url())));
    REQUIRE(harness.run_until([&] {
        return std::all_of(results.begin(), results.end(), [](auto& r) { return r->has_value(); });
    }));
    REQUIRE(server.connections_accepted() == 3);

    // The receiver now reads each request and resets its connection: the pooled try and the
    // fresh one reach it, and no other idle connection is tried.
    server.set_fault(Fault::reset);
    const auto result = harness.send(post(server.url()));
    CHECK(result.ec);
    CHECK(server.requests().size() == 3 + 2);
    CHECK(server.connections_accepted() == 4);
}

TEST_CASE("connection slots per endpoint bound the connections opened", "[live]") {
    TestServer server;
    auto config = loopback_config();
    config.max_in_flight_per_endpoint = 3;
    Harness harness{config};
    std::vector<std::shared_ptr<std::optional<Result>>> results;
    for (int i = 0; i < 30; ++i)
        results.push_back(harness.start(post(server.url())));
    REQUIRE(harness.run_until([&] {
        return std::all_of(results.begin(), results.end(), [](auto& r) { return r->has_value(); });
    }));
    for (const auto& r : results)
        CHECK((*r)->response.status == 200);
    CHECK(server.connections_accepted() <= 3);
}

TEST_CASE("the overall bound queues requests to other endpoints until a slot frees", "[live]") {
    TestServer stalled{{.fault = Fault::stall}};
    TestServer healthy;
    auto config = loopback_config();
    config.max_in_flight_total = 1;
    config.total_timeout = 500ms;
    Harness harness{config};
    std::vector<std::string> finished;
    auto first = harness.start(post(stalled.url()));
    REQUIRE(harness.run_until([&] { return stalled.requests().size() == 1; }));
    auto second = harness.start(post(healthy.url()));
    const auto note = [&](const auto& result, const std::string& name) {
        if (result->has_value() &&
            std::find(finished.begin(), finished.end(), name) == finished.end())
            finished.push_back(name);
    };
    REQUIRE(harness.run_until([&] {  // checked after every handler, so the order is exact
        note(first, "stalled");
        note(second, "healthy");
        return finished.size() == 2;
    }));
    CHECK(finished == std::vector<std::string>{"stalled", "healthy"});
    CHECK((*first)->ec == delivery_errc::timeout);
    CHECK((*second)->response.status == 200);
}

TEST_CASE("https verifies the receiver's certificate", "[live][tls]") {
    TestServer server{{.tls = true}};
    SECTION("trusted through the configured CA bundle") {
        Harness harness{config_for(server)};
        const auto result = harness.send(post(server.url()));
        REQUIRE_FALSE(result.ec);
        CHECK(result.response.status == 200);
        CHECK(server.requests().at(0).body == R"({"hello":"world"})");
    }
    SECTION("an untrusted (self-signed) certificate fails verification") {
        Harness harness;
        const auto result = harness.send(post(server.url()));
        CHECK(result.ec == delivery_errc::tls_failed);
        CHECK_THAT(result.response.diagnostic, Catch::Contains("certificate verification failed"));
        CHECK(server.requests().empty());
    }
    SECTION("a host name the certificate names passes; another one fails") {
        const auto loopback = asio::ip::make_address("127.0.0.1");
        Harness harness{config_for(server),
                        {{"hook.test", {loopback}}, {"wrong.test", {loopback}}}};
        const auto port = std::to_string(server.port());
        const auto good = harness.send(post("https://hook.test:" + port + "/hook"));
        REQUIRE_FALSE(good.ec);
        CHECK(good.response.status == 200);
        CHECK(server.requests().at(0).header("Host") == "hook.test:" + port);

        const auto bad = harness.send(post("https://wrong.test:" + port + "/hook"));
        CHECK(bad.ec == delivery_errc::tls_failed);
        CHECK_THAT(bad.response.diagnostic, Catch::Contains("mismatch"));
    }
}

TEST_CASE("an expired certificate fails verification, even from a trusted issuer", "[live][tls]") {
    TestServer server{{.tls = true, .certificate = herald::test::Certificate::expired}};
    Harness harness{config_for(server)};
    const auto result = harness.send(post(server.url()));
    CHECK(result.ec == delivery_errc::tls_failed);
    CHECK_THAT(result.response.diagnostic, Catch::Contains("expired"));
    CHECK(server.requests().empty());
}

TEST_CASE("a TLS handshake the receiver never answers ends at the connect timeout", "[live][tls]") {
    TestServer server{{.tls = true, .stall_handshake = true}};
    auto config = config_for(server);
    config.connect_timeout = 300ms;
    Harness harness{config};
    const auto result = harness.send(post(server.url()));
    CHECK(result.ec == delivery_errc::connect_timeout);
    CHECK_THAT(result.response.diagnostic, Catch::Contains("300 ms"));
    CHECK(server.connections_accepted() == 1);
}

TEST_CASE("SSRF: refused destinations name the rule and are never contacted", "[live][ssrf]") {
    const auto address = [](const char* text) { return asio::ip::make_address(text); };
    Harness harness{herald::DeliveryConfig{},
                    {{"private.test", {address("10.0.0.1")}},
                     {"metadata.test", {address("169.254.169.254")}},
                     {"mapped.test", {address("::ffff:127.0.0.1")}},
                     {"loopback6.test", {address("::1")}},
                     {"mixed.test", {address("93.184.216.34"), address("192.168.1.20")}}}};
    const auto [url, rule] = GENERATE(table<std::string, std::string>({
        {"http://2130706433/", "ssrf: host 2130706433 is an IP literal (127.0.0.1)"},
        {"http://0x7f000001/", "ssrf: host 0x7f000001 is an IP literal (127.0.0.1)"},
        {"http://0177.0.0.1/", "ssrf: host 0177.0.0.1 is an IP literal (127.0.0.1)"},
        {"http://127.1/", "ssrf: host 127.1 is an IP literal (127.0.0.1)"},
        {"http://127.0.0.1:8080/", "ssrf: host 127.0.0.1 is an IP literal (127.0.0.1)"},
        {"http://localhost/", "ssrf: host localhost is a loopback name"},
        {"http://localhost./", "ssrf: host localhost is a loopback name"},
        {"http://[::1]/", "ssrf: host ::1 is an IP literal (::1)"},
        {"http://[::ffff:127.0.0.1]/", "ssrf: host ::ffff:127.0.0.1 is an IP literal"},
        {"http://[::ffff:7f00:1]/", "ssrf: host ::ffff:7f00:1 is an IP literal (::ffff:127.0.0.1)"},
        {"http://169.254.169.254/latest/meta-data/", "ssrf: host 169.254.169.254 is an IP literal"},
        {"http://10.0.0.1/", "ssrf: host 10.0.0.1 is an IP literal"},
        {"http://100.64.0.1/", "ssrf: host 100.64.0.1 is an IP literal"},
        {"http://224.0.0.1/", "ssrf: host 224.0.0.1 is an IP literal"},
        {"http://255.255.255.255/", "ssrf: host 255.255.255.255 is an IP literal"},
        {"http://[fe80::1]/", "ssrf: host fe80::1 is an IP literal"},
        {"http://[fc00::1]/", "ssrf: host fc00::1 is an IP literal"},
        {"http://%6c%6f%63%61%6c%68%6f%73%74/", "ssrf: host localhost is a loopback name"},
        {"http://private.test/",
         "ssrf: host private.test: 10.0.0.1 is in a private range (10.0.0.0/8)"},
        {"https://metadata.test/",
         "ssrf: host metadata.test: 169.254.169.254 is in the link-local range (cloud metadata)"},
        {"http://mapped.test/",
         "ssrf: host mapped.test: ::ffff:127.0.0.1 maps to 127.0.0.1 (IPv4-mapped, ::ffff:0:0/96), "
         "which is in the loopback range (127.0.0.0/8)"},
        {"http://loopback6.test/",
         "ssrf: host loopback6.test: ::1 is in the loopback address (::1/128)"},
        {"http://mixed.test/",
         "ssrf: host mixed.test: 192.168.1.20 is in a private range (192.168.0.0/16)"},
    }));
    const auto result = harness.send(post(url));
    CHECK(result.ec == delivery_errc::ssrf_refused);
    CHECK_THAT(result.response.diagnostic, Catch::StartsWith(rule));
}

TEST_CASE("SSRF: only absolute http and https URLs with a host are sent", "[live][ssrf]") {
    Harness harness{herald::DeliveryConfig{}};
    const std::string url =
        GENERATE("ftp://example.com/x", "file:///etc/passwd", "gopher://example.com/",
                 "http:///nohost", "http://user:pw@example.com/", "/relative");
    CHECK(harness.send(post(url)).ec == delivery_errc::bad_url);
}

TEST_CASE("SSRF: a loopback receiver works only when allow-listed", "[live][ssrf]") {
    TestServer server;
    SECTION("refused by default") {
        Harness harness{herald::DeliveryConfig{}};
        CHECK(harness.send(post(server.url())).ec == delivery_errc::ssrf_refused);
        CHECK(server.connections_accepted() == 0);
    }
    SECTION("allowed by subnet") {
        Harness harness;
        CHECK(harness.send(post(server.url())).response.status == 200);
    }
    SECTION("allowed by host") {
        herald::DeliveryConfig config;
        config.ssrf.allowed_hosts = {"127.0.0.1"};
        Harness harness{config};
        CHECK(harness.send(post(server.url())).response.status == 200);
    }
    SECTION("allowed by subnet for a name that resolves there") {
        Harness harness{loopback_config(),
                        {{"receiver.test", {asio::ip::make_address("127.0.0.1")}}}};
        CHECK(harness.send(post("http://receiver.test:" + std::to_string(server.port()) + "/"))
                  .response.status == 200);
    }
}

TEST_CASE("resolve and connect failures are told apart", "[live]") {
    Harness harness;
    CHECK(harness.send(post("http://unknown.test/")).ec == delivery_errc::resolve_failed);
    const auto refused =
        harness.send(post("http://127.0.0.1:" + std::to_string(unused_port()) + "/"));
    CHECK(refused.ec == delivery_errc::connect_failed);
    CHECK_THAT(refused.response.diagnostic, Catch::Contains("connect 127.0.0.1:"));
}

// A listener that never accepts, with its accept queue already full: the kernel drops further
// SYNs, so a connect hangs until herald's connect timeout.
TEST_CASE("a connect that hangs ends at the connect timeout", "[live]") {
    asio::io_context io;
    asio::ip::tcp::acceptor full{io};
    const asio::ip::tcp::endpoint loopback{asio::ip::make_address("127.0.0.1"), 0};
    full.open(loopback.protocol());
    full.bind(loopback);
    full.listen(0);
    std::vector<asio::ip::tcp::socket> fillers;
    for (int i = 0; i < 4; ++i) {
        fillers.emplace_back(io);
        fillers.back().async_connect(full.local_endpoint(), [](boost::system::error_code) {});
    }
    io.run_for(200ms);

    auto config = loopback_config();
    config.connect_timeout = 300ms;
    Harness harness{config};
    const auto result = harness.send(
        post("http://127.0.0.1:" + std::to_string(full.local_endpoint().port()) + "/"));
    CHECK(result.ec == delivery_errc::connect_timeout);
    CHECK_THAT(result.response.diagnostic, Catch::Contains("300 ms"));
}

// A resolver that never answers (herald does not rely on resolvers honouring cancellation).
class SilentResolver final : public herald::Resolver {
  public:
    void async_resolve(std::string, Handler handler) override {
        pending_.push_back(std::move(handler));
    }

  private:
    std::vector<Handler> pending_;
};

TEST_CASE("a resolver that never answers ends at the connect timeout", "[live]") {
    asio::io_context io;
    auto config = loopback_config();
    config.connect_timeout = 200ms;
    HttpClient client{io.get_executor(), config, std::make_shared<SilentResolver>()};
    std::optional<Result> result;
    client.async_send(post("http://slow-dns.test/"),
                      [&](boost::system::error_code ec, HttpResponse r) {
                          result = Result{ec, std::move(r)};
                      });
    const auto give_up = std::chrono::steady_clock::now() + 30s;
    while (!result && std::chrono::steady_clock::now() < give_up)
        io.run_one_for(100ms);
    REQUIRE(result);
    CHECK(result->ec == delivery_errc::connect_timeout);
}

TEST_CASE("headers that would split the request are refused before sending", "[live]") {
    TestServer server;
    Harness harness;
    const auto [name, value] = GENERATE(table<std::string, std::string>({
        {"X-Evil", "a\r\nX-Injected: 1"},
        {"X-Evil", "a\nb"},
        {"Bad Name", "x"},
        {"Content-Length", "0"},
        {"Host", "elsewhere.example"},
        {"Transfer-Encoding", "chunked"},
    }));
    auto request = post(server.url());
    request.headers.emplace_back(name, value);
    const auto result = harness.send(std::move(request));
    CHECK(result.ec == delivery_errc::bad_request);
    CHECK(server.connections_accepted() == 0);
}

// "localhost" comes from /etc/hosts: no DNS traffic leaves the machine.
TEST_CASE("the system resolver answers through getaddrinfo", "[live]") {
    asio::io_context io;
    herald::SystemResolver resolver{io.get_executor()};
    std::optional<std::pair<boost::system::error_code, herald::Resolver::Addresses>> answer;
    resolver.async_resolve("localhost",
                           [&](boost::system::error_code ec, herald::Resolver::Addresses found) {
                               answer.emplace(ec, std::move(found));
                           });
    CHECK_FALSE(answer);  // never inline
    io.run();
    REQUIRE(answer);
    REQUIRE_FALSE(answer->first);
    CHECK(std::all_of(answer->second.begin(), answer->second.end(),
                      [](const auto& address) { return address.is_loopback(); }));
}

TEST_CASE("completion never runs inside async_send", "[live]") {
    asio::io_context io;
    HttpClient client{io.get_executor(), herald::DeliveryConfig{},
                      std::make_shared<herald::StaticResolver>(io.get_executor(),
                                                               herald::StaticResolver::Table{})};
    bool returned = false;
    std::optional<bool> returned_before_completion;
    client.async_send(post("ftp://example.com/"), [&](boost::system::error_code, HttpResponse) {
        returned_before_completion = returned;
    });
    returned = true;
    while (!returned_before_completion)
        io.run_one();
    CHECK(*returned_before_completion);
}

TEST_CASE("a request can be cancelled through its cancellation slot", "[live]") {
    TestServer server{{.fault = Fault::stall}};
    Harness harness;
    asio::cancellation_signal signal;
    std::optional<Result> result;
    harness.client().async_send(
        post(server.url()), asio::bind_cancellation_slot(
                                signal.slot(), [&](boost::system::error_code ec, HttpResponse r) {
                                    result = Result{ec, std::move(r)};
                                }));
    REQUIRE(harness.run_until([&] { return server.requests().size() == 1; }));
    signal.emit(asio::cancellation_type::terminal);
    REQUIRE(harness.run_until([&] { return result.has_value(); }));
    CHECK(result->ec == asio::error::operation_aborted);
}

// 100 receivers that never answer hold their endpoints' slots (and queues) for the whole test;
// requests to a healthy receiver keep completing meanwhile. Generous bounds, no timing claims.
TEST_CASE("stalled endpoints never delay a healthy one", "[live][isolation]") {
    std::vector<std::unique_ptr<TestServer>> stalled;
    for (int i = 0; i < 100; ++i)
        stalled.push_back(std::make_unique<TestServer>(TestServer::Options{.fault = Fault::stall}));
    TestServer healthy;

    auto config = loopback_config();
    config.max_in_flight_per_endpoint = 2;
    config.total_timeout = 10min;
    Harness harness{config};

    std::vector<std::shared_ptr<std::optional<Result>>> stuck;
    for (const auto& server : stalled)
        for (int i = 0; i < 4; ++i)  // two in flight, two queued behind them
            stuck.push_back(harness.start(post(server->url())));
    REQUIRE(harness.run_until([&] {
        return std::all_of(stalled.begin(), stalled.end(),
                           [](auto& s) { return s->requests().size() == 2; });
    }));

    for (int i = 0; i < 50; ++i) {
        const auto result = harness.send(post(healthy.url()));
        REQUIRE_FALSE(result.ec);
        CHECK(result.response.status == 200);
    }
    CHECK(std::none_of(stuck.begin(), stuck.end(), [](auto& r) { return r->has_value(); }));

    harness.client().cancel();
    REQUIRE(harness.run_until([&] {
        return std::all_of(stuck.begin(), stuck.end(), [](auto& r) { return r->has_value(); });
    }));
    for (const auto& r : stuck)
        CHECK((*r)->ec == asio::error::operation_aborted);
}

}  // namespace
