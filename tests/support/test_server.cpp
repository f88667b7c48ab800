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

#include <condition_variable>
#include <cstdlib>
#include <deque>
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

TestCertificate::TestCertificate()
    : dir_(make_temp_dir()), cert_file_(dir_ + "/cert.pem"), key_file_(dir_ + "/key.pem") {
    const std::string command =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2"
        " -subj /CN=herald-test -addext subjectAltName=IP:127.0.0.1,DNS:hook.test"
        " -keyout " +
        key_file_ + " -out " + cert_file_ + " 2>/dev/null";
    if (std::system(command.c_str()) != 0)
        throw std::runtime_error("openssl could not make the test certificate");
}

TestCertificate::~TestCertificate() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
}

class TestServer::Impl {
  public:
    explicit Impl(Options options) : options_(options), fault_(options.fault), acceptor_(io_) {
        if (options_.tls) {
            certificate_.emplace();
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

    std::vector<ReceivedRequest> requests() const {
        std::lock_guard lock{mutex_};
        return requests_;
    }

    std::size_t connections_accepted() const {
        std::lock_guard lock{mutex_};
        return connections_;
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
            }
            asio::co_spawn(io_, serve(std::move(socket), connection), asio::detached);
        }
    }

    asio::awaitable<void> serve(tcp::socket socket, std::uint64_t connection) {
        if (!tls_) {
            beast::tcp_stream stream{std::move(socket)};
            co_await session(stream, connection);
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
        std::lock_guard lock{mutex_};
        requests_.push_back(std::move(received));
        arrived_.notify_all();
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
                co_await trickle(stream);
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

    template <class Stream>
    asio::awaitable<void> trickle(Stream& stream) {
        const std::string head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
                                 std::to_string(trickle_body_size) + "\r\n\r\n";
        auto [head_ec, head_bytes] =
            co_await asio::async_write(stream, asio::buffer(head), use_tuple);
        asio::steady_timer timer{io_};
        for (std::size_t i = 0; !head_ec && i < trickle_body_size; ++i) {
            timer.expires_after(trickle_interval);
            co_await timer.async_wait(use_tuple);
            auto [ec, ignored] =
                co_await asio::async_write(stream, asio::buffer("t", 1), use_tuple);
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
    std::vector<ReceivedRequest> requests_;
    std::size_t connections_ = 0;
    tcp::acceptor acceptor_;
    std::uint16_t port_ = 0;
    std::thread thread_;
};

TestServer::TestServer(Options options) : impl_(std::make_unique<Impl>(options)) {}
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
std::vector<ReceivedRequest> TestServer::requests() const {
    return impl_->requests();
}
std::size_t TestServer::connections_accepted() const {
    return impl_->connections_accepted();
}
bool TestServer::wait_for_requests(std::size_t count, std::chrono::milliseconds timeout) const {
    return impl_->wait_for_requests(count, timeout);
}

}  // namespace herald::test
