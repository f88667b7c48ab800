// A real HTTP/HTTPS receiver on 127.0.0.1 for tests, with a fault switch (library
// herald_test_support). Each server listens on an ephemeral port and runs its own thread, so a
// test drives herald on its own io_context and inspects what arrived:
//
//     herald::test::TestServer server{{.tls = true}};
//     server.set_fault(herald::test::Fault::too_many_requests);   // 429 + Retry-After
//     ... send to server.url("/hook") with the CA in server.ca_file() ...
//     REQUIRE(server.wait_for_requests(1));
//     CHECK(server.requests()[0].header("webhook-id") == "msg_1");
//
// HTTPS uses a certificate generated at construction (openssl command line) for
// subjectAltName IP:127.0.0.1 and DNS:hook.test, self-signed and marked as a CA so the file
// doubles as the trust anchor.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace herald::test {

/// How the server answers a request.
enum class Fault {
    ok,                 ///< 200, body "ok"
    server_error,       ///< 500
    too_many_requests,  ///< 429 with `Retry-After` (see set_retry_after, default "7")
    gone,               ///< 410
    redirect,           ///< 301 to this server's "/moved" (following it would be a second request)
    stall,              ///< reads the request, never answers (until the client leaves)
    reset,              ///< reads the request, resets the connection (RST, no response)
    huge_body,          ///< 200 with a 10 MB body
    trickle,            ///< 200 with a 200-byte body sent one byte every 50 ms (10 s in all)
    ok_then_close,      ///< 200 that promises keep-alive, then closes the connection
    early_hints,        ///< an interim 103 Early Hints, then 200 "ok"
    reset_mid_body,     ///< 200 head and half its body, then a reset (RST)
    slow_headers,       ///< a status line, then a header one byte every 50 ms, never ended
    slow,               ///< 200 "ok" after the delay set_delay sets (default 1 s)
};

/// Which certificate an https TestServer presents.
enum class Certificate {
    valid,    ///< self-signed, for 127.0.0.1 and hook.test, valid from yesterday for two days
    expired,  ///< the same names, expired yesterday
};

/// A request as the server received it.
struct ReceivedRequest {
    std::string method;
    std::string target;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::uint64_t connection = 0;  ///< which accepted connection carried it (1, 2, ...)

    /// The first header with this name (case-insensitive); "" when absent.
    std::string header(std::string_view name) const;
};

/// How a TestServer starts.
struct TestServerOptions {
    bool tls = false;
    Fault fault = Fault::ok;
    Certificate certificate = Certificate::valid;
    /// https: accepts connections but never answers the client's TLS hello.
    bool stall_handshake = false;
    /// Told of every request as it arrives, with the fault that answers it; called on the
    /// server's thread, must not block.
    std::function<void(const ReceivedRequest&, Fault)> on_request;
    /// false: requests are only told to `on_request`, not kept (requests() stays empty and
    /// wait_for_requests waits in vain), so a long run's receiver holds nothing per request.
    bool keep_requests = true;
};

/// The server. Thread-safe; the destructor stops it and closes every connection.
class TestServer {
  public:
    using Options = TestServerOptions;

    explicit TestServer(Options options = {});
    ~TestServer();
    TestServer(const TestServer&) = delete;
    TestServer& operator=(const TestServer&) = delete;

    std::uint16_t port() const;
    /// "http(s)://127.0.0.1:<port><path>".
    std::string url(std::string_view path = "/hook") const;
    /// PEM file with the server's certificate (https only; "" for http).
    std::string ca_file() const;

    /// The answer to every request from now on.
    void set_fault(Fault fault);
    /// Answers for the next requests, in order, before falling back to set_fault's.
    void enqueue_faults(std::vector<Fault> faults);
    /// The `Retry-After` value sent with Fault::too_many_requests.
    void set_retry_after(std::string value);
    /// How long Fault::slow waits before it answers.
    void set_delay(std::chrono::milliseconds delay);

    std::vector<ReceivedRequest> requests() const;
    std::size_t connections_accepted() const;
    /// Connections accepted and not yet closed, now and at most at once so far.
    std::size_t connections_open() const;
    std::size_t peak_connections_open() const;
    /// Waits until at least `count` requests have arrived; false on timeout.
    bool wait_for_requests(std::size_t count,
                           std::chrono::milliseconds timeout = std::chrono::seconds{10}) const;

  private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

/// A self-signed P-256 certificate + key for 127.0.0.1 / hook.test, made with OpenSSL at run
/// time and written to a fresh temporary directory (removed by the destructor).
class TestCertificate {
  public:
    explicit TestCertificate(Certificate kind = Certificate::valid);
    ~TestCertificate();
    TestCertificate(const TestCertificate&) = delete;
    TestCertificate& operator=(const TestCertificate&) = delete;

    const std::string& cert_file() const { return cert_file_; }
    const std::string& key_file() const { return key_file_; }

  private:
    std::string dir_;
    std::string cert_file_;
    std::string key_file_;
};

}  // namespace herald::test
