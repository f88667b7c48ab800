#include "support/test_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace herald::test {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t huge_body_size = 10 * 1024 * 1024;
constexpr std::size_t trickle_body_size = 200;
constexpr auto trickle_interval = std::chrono::milliseconds{50};

/// An OpenSSL object freed with `Free`.
template <class T, void (*Free)(T*)>
struct Deleter {
    void operator()(T* p) const noexcept { Free(p); }
};
template <class T, void (*Free)(T*)>
using Owned = std::unique_ptr<T, Deleter<T, Free>>;

std::string make_temp_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "herald-cert-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr)
        throw std::runtime_error("mkdtemp failed");
    return pattern;
}

http::response<http::string_body> simple_response(http::status status, std::string body,
                                                  bool keep_alive) {
    http::response<http::string_body> response{status, 11};
    response.set(http::field::content_type, "text/plain");
    response.keep_alive(keep_alive);
    response.body() = std::move(body);
    response.prepare_payload();
    return response;
}

}  // namespace

std::string ReceivedRequest::header(std::string_view name) const {
    for (const auto& [field, value] : headers)
        if (beast::iequals(field, name))
            return value;
    return {};
}

TestCertificate::TestCertificate(Certificate kind)
    : dir_(make_temp_dir()), cert_file_(dir_ + "/cert.pem"), key_file_(dir_ + "/key.pem") {
    const auto fail = [](const char* what) {
        throw std::runtime_error(std::string("OpenSSL could not make the test certificate: ") +
                                 what);
    };
    const Owned<EVP_PKEY, EVP_PKEY_free> key{EVP_EC_gen("P-256")};
    const Owned<X509, X509_free> cert{X509_new()};
    if (!key || !cert)
        fail("key");
    constexpr long day = 24 * 60 * 60;
    const long not_before = kind == Certificate::expired ? -3 * day : -day;
    const long not_after = kind == Certificate::expired ? -day : day;
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), not_before);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), not_after);
    X509_set_pubkey(cert.get(), key.get());
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("herald-test"), -1, -1, 0);
    X509_set_issuer_name(cert.get(), name);
    X509V3_CTX context;
    X509V3_set_ctx_nodb(&context);
    X509V3_set_ctx(&context, cert.get(), cert.get(), nullptr, nullptr, 0);
    const Owned<X509_EXTENSION, X509_EXTENSION_free> names{
        X509V3_EXT_conf_nid(nullptr, &context, NID_subject_alt_name, "IP:127.0.0.1,DNS:hook.test")};
    if (!names || !X509_add_ext(cert.get(), names.get(), -1) ||
        !X509_sign(cert.get(), key.get(), EVP_sha256()))
        fail("signature");
    const auto write = [&](const std::string& path, auto write_pem) {
        const Owned<BIO, BIO_free_all> file{BIO_new_file(path.c_str(), "w")};
        if (!file || !write_pem(file.get()))
            fail(path.c_str());
    };
    write(cert_file_, [&](BIO* out) { return PEM_write_bio_X509(out, cert.get()); });
    write(key_file_, [&](BIO* out) {
        return PEM_write_bio_PrivateKey(out, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    });
}

TestCertificate::~TestCertificate() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
}

class TestServer::Impl {
  public:
    explicit Impl(Options options)
        : options_(std::move(options)), fault_(options_.fault), acceptor_(io_) {
        if (options_.tls) {
            certificate_.emplace(options_.certificate);
            tls_.emplace(ssl::context::tls_server);
            tls_->use_certificate_chain_file(certificate_->cert_file());
            tls_->use_private_key_file(certificate_->key_file(), ssl::context::pem);
        }
        const tcp::endpoint loopback{asio::ip::make_address("127.0.0.1"), 0};
        acceptor_.open(loopback.protocol());
        acceptor_.set_option(tcp::acceptor::reuse_address(true));
        acceptor_.bind(loopback);
        acceptor_.listen(asio::socket_base::max_listen_connections);
        port_ = acceptor_.local_endpoint().port();
        asio::co_spawn(io_, accept_loop(), asio::detached);
        thread_ = std::thread([this] { io_.run(); });
    }

    ~Impl() {
        io_.stop();
        thread_.join();
    }

    std::uint16_t port() const { return port_; }
    std::string ca_file() const { return certificate_ ? certificate_->cert_file() : std::string{}; }

    void set_fault(Fault fault) {
        std::lock_guard lock{mutex_};
        fault_ = fault;
    }

    void enqueue_faults(std::vector<Fault> faults) {
        std::lock_guard lock{mutex_};
        queued_.insert(queued_.end(), faults.begin(), faults.end());
    }

    void set_retry_after(std::string value) {
        std::lock_guard lock{mutex_};
        retry_after_ = std::move(value);
    }

    void set_delay(std::chrono::milliseconds delay) {
        std::lock_guard lock{mutex_};
        delay_ = delay;
    }

    std::vector<ReceivedRequest> requests() const {
        std::lock_guard lock{mutex_};
        return requests_;
    }

    std::size_t connections_accepted() const {
        std::lock_guard lock{mutex_};
        return connections_;
    }

    std::size_t connections_open() const {
        std::lock_guard lock{mutex_};
        return open_;
    }

    std::size_t peak_connections_open() const {
        std::lock_guard lock{mutex_};
        return peak_open_;
    }

    bool wait_for_requests(std::size_t count, std::chrono::milliseconds timeout) const {
        std::unique_lock lock{mutex_};
        return arrived_.wait_for(lock, timeout, [&] { return requests_.size() >= count; });
    }

    std::string url(std::string_view path) const {
        return std::string(options_.tls ? "https" : "http") +
               "://127.0.0.1:" + std::to_string(port_) + std::string(path);
    }

  private:
    asio::awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, socket] = co_await acceptor_.async_accept(use_tuple);
            if (ec)
                co_return;
            std::uint64_t connection = 0;
            {
                std::lock_guard lock{mutex_};
                connection = ++connections_;
                peak_open_ = std::max(peak_open_, ++open_);
            }
            // The session's socket is closed by the time it completes.
            asio::co_spawn(io_, serve(std::move(socket), connection), [this](std::exception_ptr) {
                std::lock_guard lock{mutex_};
                --open_;
            });
        }
    }

    asio::awaitable<void> serve(tcp::socket socket, std::uint64_t connection) {
        if (!tls_) {
            beast::tcp_stream stream{std::move(socket)};
            co_await session(stream, connection);
            co_return;
        }
        if (options_.stall_handshake) {
            co_await wait_for_client_to_leave(socket);
            co_return;
        }
        beast::ssl_stream<beast::tcp_stream> stream{beast::tcp_stream{std::move(socket)}, *tls_};
        auto [ec] = co_await stream.async_handshake(ssl::stream_base::server, use_tuple);
        if (!ec)
            co_await session(stream, connection);
    }

    template <class Stream>
    asio::awaitable<void> session(Stream& stream, std::uint64_t connection) {
        beast::flat_buffer buffer;
        for (;;) {
            http::request_parser<http::string_body> parser;
            parser.body_limit(64 * 1024 * 1024);
            auto [ec, ignored] = co_await http::async_read(stream, buffer, parser, use_tuple);
            if (ec)
                co_return;
            const auto fault = record(parser.get(), connection);
            if (!co_await answer(stream, fault, parser.get().keep_alive()))
                co_return;
        }
    }

    Fault record(const http::request<http::string_body>& request, std::uint64_t connection) {
        ReceivedRequest received{.method = std::string(request.method_string()),
                                 .target = std::string(request.target()),
                                 .body = request.body(),
                                 .connection = connection};
        for (const auto& field : request)
            received.headers.emplace_back(field.name_string(), field.value());
        const Fault fault = next_fault();
        if (options_.on_request)
            options_.on_request(received, fault);
        if (options_.keep_requests) {
            std::lock_guard lock{mutex_};
            requests_.push_back(std::move(received));
            arrived_.notify_all();
        }
        return fault;
    }

    Fault next_fault() {
        std::lock_guard lock{mutex_};
        if (queued_.empty())
            return fault_;
        const Fault next = queued_.front();
        queued_.pop_front();
        return next;
    }

    std::string retry_after() const {
        std::lock_guard lock{mutex_};
        return retry_after_;
    }

    std::chrono::milliseconds delay() const {
        std::lock_guard lock{mutex_};
        return delay_;
    }

    // Answers one request; false when the connection is finished.
    template <class Stream>
    asio::awaitable<bool> answer(Stream& stream, Fault fault, bool keep_alive) {
        switch (fault) {
            case Fault::ok:
                co_return co_await send(stream,
                                        simple_response(http::status::ok, "ok", keep_alive));
            case Fault::server_error:
                co_return co_await send(stream, simple_response(http::status::internal_server_error,
                                                                "boom", keep_alive));
            case Fault::too_many_requests: {
                auto response =
                    simple_response(http::status::too_many_requests, "slow down", keep_alive);
                response.set(http::field::retry_after, retry_after());
                co_return co_await send(stream, std::move(response));
            }
            case Fault::gone:
                co_return co_await send(stream,
                                        simple_response(http::status::gone, "gone", keep_alive));
            case Fault::redirect: {
                auto response = simple_response(http::status::moved_permanently, "", keep_alive);
                response.set(http::field::location, url("/moved"));
                co_return co_await send(stream, std::move(response));
            }
            case Fault::stall:
                co_await wait_for_client_to_leave(stream);
                co_return false;
            case Fault::reset:
                reset(stream);
                co_return false;
            case Fault::huge_body:
                co_return co_await send(
                    stream, simple_response(http::status::ok, std::string(huge_body_size, 'x'),
                                            keep_alive));
            case Fault::trickle:
                co_await trickle(stream,
                                 "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
                                     std::to_string(trickle_body_size) + "\r\n\r\n",
                                 std::string(trickle_body_size, 't'));
                co_return false;
            case Fault::early_hints: {
                static constexpr std::string_view hints =
                    "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n";
                auto [ec, ignored] =
                    co_await asio::async_write(stream, asio::buffer(hints), use_tuple);
                if (ec)
                    co_return false;
                co_return co_await send(stream,
                                        simple_response(http::status::ok, "ok", keep_alive));
            }
            case Fault::ok_then_close:
                co_await send(stream, simple_response(http::status::ok, "ok", true));
                co_return false;
            case Fault::reset_mid_body: {
                static constexpr std::string_view half =
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n"
                    "only fifty bytes of the hundred promised arrive...";
                auto [ec, ignored] =
                    co_await asio::async_write(stream, asio::buffer(half), use_tuple);
                if (!ec)
                    reset(stream);
                co_return false;
            }
            case Fault::slow_headers:
                co_await trickle(stream, "HTTP/1.1 200 OK\r\n", "X-Slow: " + std::string(400, 's'));
                co_return false;
            case Fault::slow: {
                asio::steady_timer timer(stream.get_executor(), delay());
                co_await timer.async_wait(use_tuple);
                co_return co_await send(stream,
                                        simple_response(http::status::ok, "ok", keep_alive));
            }
        }
        co_return false;
    }

    template <class Stream>
    asio::awaitable<bool> send(Stream& stream, http::response<http::string_body> response) {
        auto [ec, ignored] = co_await http::async_write(stream, response, use_tuple);
        co_return !ec && response.keep_alive();
    }

    template <class Stream>
    asio::awaitable<void> wait_for_client_to_leave(Stream& stream) {
        std::array<char, 256> sink;
        for (;;) {
            auto [ec, ignored] = co_await stream.async_read_some(asio::buffer(sink), use_tuple);
            if (ec)
                co_return;
        }
    }

    // SO_LINGER with a zero timeout makes close() send RST instead of FIN.
    template <class Stream>
    void reset(Stream& stream) {
        auto& socket = beast::get_lowest_layer(stream).socket();
        boost::system::error_code ignored;
        socket.set_option(asio::socket_base::linger(true, 0), ignored);
        socket.close(ignored);
    }

    // Writes `head` at once, then `rest` one byte per trickle interval.
    template <class Stream>
    asio::awaitable<void> trickle(Stream& stream, std::string head, std::string rest) {
        auto [head_ec, head_bytes] =
            co_await asio::async_write(stream, asio::buffer(head), use_tuple);
        asio::steady_timer timer{io_};
        for (std::size_t i = 0; !head_ec && i < rest.size(); ++i) {
            timer.expires_after(trickle_interval);
            co_await timer.async_wait(use_tuple);
            auto [ec, ignored] =
                co_await asio::async_write(stream, asio::buffer(&rest[i], 1), use_tuple);
            if (ec)
                co_return;
        }
    }

    Options options_;
    std::optional<TestCertificate> certificate_;
    std::optional<ssl::context> tls_;
    asio::io_context io_;
    mutable std::mutex mutex_;
    mutable std::condition_variable arrived_;
    Fault fault_;
    std::deque<Fault> queued_;
    std::string retry_after_ = "7";
    std::chrono::milliseconds delay_{1000};
    std::vector<ReceivedRequest> requests_;
    std::size_t connections_ = 0;
    std::size_t open_ = 0;
    std::size_t peak_open_ = 0;
    tcp::acceptor acceptor_;
    std::uint16_t port_ = 0;
    std::thread thread_;
};

TestServer::TestServer(Options options) : impl_(std::make_unique<Impl>(std::move(options))) {}
TestServer::~TestServer() = default;

std::uint16_t TestServer::port() const {
    return impl_->port();
}
std::string TestServer::url(std::string_view path) const {
    return impl_->url(path);
}
std::string TestServer::ca_file() const {
    return impl_->ca_file();
}
void TestServer::set_fault(Fault fault) {
    impl_->set_fault(fault);
}
void TestServer::enqueue_faults(std::vector<Fault> faults) {
    impl_->enqueue_faults(std::move(faults));
}
void TestServer::set_retry_after(std::string value) {
    impl_->set_retry_after(std::move(value));
}
void TestServer::set_delay(std::chrono::milliseconds delay) {
    impl_->set_delay(delay);
}
std::vector<ReceivedRequest> TestServer::requests() const {
    return impl_->requests();
}
std::size_t TestServer::connections_accepted() const {
    return impl_->connections_accepted();
}
std::size_t TestServer::connections_open() const {
    return impl_->connections_open();
}
std::size_t TestServer::peak_connections_open() const {
    return impl_->peak_connections_open();
}
bool TestServer::wait_for_requests(std::size_t count, std::chrono::milliseconds timeout) const {
    return impl_->wait_for_requests(count, timeout);
}

}  // namespace herald::test
