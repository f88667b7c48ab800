#include "delivery/http_client.hpp"

#include "delivery/address_policy.hpp"

#include <herald/error.hpp>

#include <boost/asio/append.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <deque>
#include <list>
#include <unordered_map>
#include <unordered_set>
#include <variant>

namespace herald::detail {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t read_chunk_size = 16 * 1024;

struct Outcome {
    error_code ec;
    HttpResponse response;
};

Outcome failure(delivery_errc code, std::string diagnostic) {
    Outcome outcome{.ec = code};
    outcome.response.diagnostic = std::move(diagnostic);
    return outcome;
}

// Where a request goes, parsed and checked once per send.
struct Target {
    bool tls = false;
    std::string host;  // normalized; IPv6 without brackets
    std::uint16_t port = 0;
    std::string host_header;
    std::string path;  // origin-form request target
    std::string key;   // the connection pool's (scheme, host, port)
};

std::optional<Target> parse_target(const boost::urls::url& url) {
    Target target;
    const auto scheme = url.scheme_id();
    if (scheme != boost::urls::scheme::http && scheme != boost::urls::scheme::https)
        return std::nullopt;
    if (!url.has_authority() || url.encoded_host().empty() || url.has_userinfo())
        return std::nullopt;
    target.tls = scheme == boost::urls::scheme::https;
    target.host = normalize_host(url.host_address());
    if (url.has_port()) {
        if (url.port().empty() || url.port_number() == 0)
            return std::nullopt;
        target.port = url.port_number();
    } else {
        target.port = target.tls ? 443 : 80;
    }
    target.host_header = url.encoded_host_and_port();
    target.path = url.encoded_path().empty() ? "/" + std::string(url.encoded_target())
                                             : std::string(url.encoded_target());
    target.key = std::string(target.tls ? "https://" : "http://") + target.host + ":" +
                 std::to_string(target.port);
    return target;
}

std::string endpoint_text(const Target& target) {
    return (target.host.find(':') != std::string::npos ? "[" + target.host + "]" : target.host) +
           ":" + std::to_string(target.port);
}

// One keep-alive connection, plain or TLS.
struct Connection {
    using Plain = beast::tcp_stream;
    using Secure = beast::ssl_stream<beast::tcp_stream>;

    explicit Connection(const asio::any_io_executor& executor)
        : stream(std::in_place_type<Plain>, executor) {}
    Connection(const asio::any_io_executor& executor, ssl::context& context)
        : stream(std::in_place_type<Secure>, executor, context) {}

    beast::tcp_stream& tcp() {
        return std::visit([](auto& s) -> beast::tcp_stream& { return beast::get_lowest_layer(s); },
                          stream);
    }

    std::variant<Plain, Secure> stream;
    beast::flat_buffer buffer;  // bytes read past one response, kept for the next
    SteadyClock::time_point idle_since;
};

// One send in progress: what cancellation has to interrupt (on the client's strand).
struct Operation {
    explicit Operation(HttpRequest r) : request(std::move(r)) {}

    void cancel() {
        cancelled = true;
        if (waiting != nullptr)
            waiting->cancel();
        if (active != nullptr)
            active->close();
    }

    HttpRequest request;
    bool cancelled = false;
    asio::steady_timer* waiting = nullptr;  // a slot queue or a DNS answer
    beast::tcp_stream* active = nullptr;    // the connection being used
};

// A counting semaphore with a FIFO queue, for the in-flight bounds. Strand-confined.
class Slots {
  public:
    explicit Slots(std::size_t limit) : available_(limit) {}

    // True when a slot was taken, false when the operation was cancelled.
    asio::awaitable<bool> acquire(Operation& op) {
        if (op.cancelled)
            co_return false;
        if (available_ > 0 && queue_.empty()) {
            --available_;
            co_return true;
        }
        Waiter waiter{
            asio::steady_timer{co_await asio::this_coro::executor, SteadyClock::time_point::max()}};
        const auto position = queue_.insert(queue_.end(), &waiter);
        op.waiting = &waiter.timer;
        co_await waiter.timer.async_wait(use_tuple);
        op.waiting = nullptr;
        if (!waiter.granted)
            queue_.erase(position);
        else if (op.cancelled)
            release();  // granted while being cancelled: pass the slot on
        co_return waiter.granted && !op.cancelled;
    }

    void release() {
        if (queue_.empty()) {
            ++available_;
            return;
        }
        Waiter* next = queue_.front();
        queue_.pop_front();
        next->granted = true;
        next->timer.cancel();
    }

    bool idle(std::size_t limit) const { return queue_.empty() && available_ == limit; }

  private:
    struct Waiter {
        asio::steady_timer timer;
        bool granted = false;
    };
    std::size_t available_;
    std::list<Waiter*> queue_;
};

// Releases a taken slot when the request is done, however it ends.
class SlotGuard {
  public:
    explicit SlotGuard(Slots& slots) : slots_(&slots) {}
    SlotGuard(const SlotGuard&) = delete;
    SlotGuard& operator=(const SlotGuard&) = delete;
    ~SlotGuard() { slots_->release(); }

  private:
    Slots* slots_;
};

// The pool and in-flight bound of one (scheme, host, port).
struct Endpoint {
    explicit Endpoint(std::size_t limit) : slots(limit) {}

    Slots slots;
    std::deque<std::unique_ptr<Connection>> idle;
};

bool is_timeout(const error_code& ec) {
    return ec == beast::error::timeout;
}

bool is_closed_by_peer(const error_code& ec) {
    return ec == http::error::end_of_stream || ec == http::error::partial_message ||
           ec == asio::error::eof || ec == asio::error::connection_reset ||
           ec == asio::error::broken_pipe || ec == asio::error::connection_aborted ||
           ec == ssl::error::stream_truncated;
}

delivery_errc exchange_error(const error_code& ec) {
    if (is_timeout(ec))
        return delivery_errc::timeout;
    if (ec.category() == http::make_error_code(http::error::end_of_stream).category() &&
        !is_closed_by_peer(ec))
        return delivery_errc::protocol_error;
    return delivery_errc::connection_reset;
}

std::string tls_failure_text(Connection::Secure& stream, const error_code& ec) {
    const long verify = SSL_get_verify_result(stream.native_handle());
    if (verify != X509_V_OK)
        return std::string("certificate verification failed: ") +
               X509_verify_cert_error_string(verify);
    return ec.message();
}

}  // namespace

std::optional<std::string_view> HttpResponse::header(std::string_view name) const {
    for (const auto& [field, value] : headers)
        if (beast::iequals(field, name))
            return std::string_view(value);
    return std::nullopt;
}

class HttpClient::Impl : public std::enable_shared_from_this<Impl> {
  public:
    Impl(asio::any_io_executor executor, DeliveryConfig config, std::shared_ptr<Resolver> resolver)
        : executor_(std::move(executor)),
          strand_(asio::make_strand(executor_)),
          config_(std::move(config)),
          resolver_(std::move(resolver)),
          policy_(config_.ssrf),
          tls_context_(make_tls_context(config_.ca_file)),
          total_slots_(config_.max_in_flight_total),
          sweep_timer_(strand_) {}

    void start_sweeping() {
        asio::co_spawn(strand_, sweep_idle(shared_from_this()), asio::detached);
    }

    void send(HttpRequest request, Handler handler) {
        auto op = std::make_shared<Operation>(std::move(request));
        auto slot = asio::get_associated_cancellation_slot(handler);
        if (slot.is_connected())
            slot.assign(
                [weak = std::weak_ptr<Operation>(op), strand = strand_](asio::cancellation_type) {
                    asio::dispatch(strand, [weak] {
                        if (auto alive = weak.lock())
                            alive->cancel();
                    });
                });
        asio::co_spawn(strand_, run(shared_from_this(), op),
                       [self = shared_from_this(), op, handler = std::move(handler)](
                           std::exception_ptr error, Outcome outcome) mutable {
                           self->operations_.erase(op.get());
                           if (error)
                               outcome = {.ec = asio::error::operation_aborted};
                           self->complete(std::move(handler), std::move(outcome));
                       });
    }

    void cancel_all() {
        asio::dispatch(strand_, [self = shared_from_this()] {
            self->closed_ = true;
            self->sweep_timer_.cancel();
            for (Operation* op : self->operations_)
                op->cancel();
            self->endpoints_.clear();
        });
    }

  private:
    static ssl::context make_tls_context(const std::string& ca_file) {
        ssl::context context{ssl::context::tls_client};
        context.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                            ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                            ssl::context::no_tlsv1_1);
        context.set_verify_mode(ssl::verify_peer);
        error_code ec;
        if (ca_file.empty())
            context.set_default_verify_paths(ec);
        else
            context.load_verify_file(ca_file, ec);
        if (ec)
            throw Error(errc::invalid_argument, "ca_file",
                        "cannot load the CA certificates: " + ec.message());
        return context;
    }

    void complete(Handler handler, Outcome outcome) {
        auto slot = asio::get_associated_cancellation_slot(handler);
        if (slot.is_connected())
            slot.clear();
        asio::dispatch(executor_,
                       asio::append(std::move(handler), outcome.ec, std::move(outcome.response)));
    }

    static asio::awaitable<Outcome> run(std::shared_ptr<Impl> self, std::shared_ptr<Operation> op) {
        self->operations_.insert(op.get());
        if (self->closed_)
            co_return Outcome{.ec = asio::error::operation_aborted};
        co_return co_await self->deliver(*op);
    }

    asio::awaitable<Outcome> deliver(Operation& op) {
        const auto target = parse_target(op.request.url);
        if (!target)
            co_return failure(delivery_errc::bad_url, "not an absolute http(s) URL with a host");
        if (op.request.url.host_type() == boost::urls::host_type::ipvfuture)
            co_return failure(delivery_errc::ssrf_refused,
                              "ssrf: host " + target->host + " is an IPvFuture literal");
        auto host = policy_.check_host(target->host);
        if (!host.refusal.empty())
            co_return failure(delivery_errc::ssrf_refused, std::move(host.refusal));

        const auto endpoint = endpoint_for(target->key);
        if (!co_await endpoint->slots.acquire(op))
            co_return Outcome{.ec = asio::error::operation_aborted};
        SlotGuard endpoint_slot{endpoint->slots};
        if (!co_await total_slots_.acquire(op))
            co_return Outcome{.ec = asio::error::operation_aborted};
        SlotGuard total_slot{total_slots_};

        const auto started = SteadyClock::now();
        auto outcome = co_await exchange_on_pool(op, *target, host, *endpoint,
                                                 started + config_.total_timeout);
        outcome.response.latency = SteadyClock::now() - started;
        if (op.cancelled)
            outcome.ec = asio::error::operation_aborted;
        forget_if_unused(target->key, endpoint);
        co_return outcome;
    }

    std::shared_ptr<Endpoint> endpoint_for(const std::string& key) {
        auto& entry = endpoints_[key];
        if (!entry)
            entry = std::make_shared<Endpoint>(config_.max_in_flight_per_endpoint);
        return entry;
    }

    // Endpoints are dropped once nothing refers to them, so a stream of one-off hosts does not
    // grow the map.
    void forget_if_unused(const std::string& key, const std::shared_ptr<Endpoint>& endpoint) {
        const auto found = endpoints_.find(key);
        if (found != endpoints_.end() && found->second == endpoint && endpoint->idle.empty() &&
            endpoint->slots.idle(config_.max_in_flight_per_endpoint) && endpoint.use_count() <= 2)
            endpoints_.erase(found);
    }

    std::unique_ptr<Connection> take_idle(Endpoint& endpoint) {
        const auto now = SteadyClock::now();
        while (!endpoint.idle.empty()) {
            auto connection = std::move(endpoint.idle.back());
            endpoint.idle.pop_back();
            if (now - connection->idle_since < config_.idle_timeout &&
                connection->tcp().socket().is_open())
                return connection;
        }
        return nullptr;
    }

    // Sends on a pooled connection when there is one. A pooled connection the receiver closed
    // while it sat idle fails before any response byte arrives; the request then goes once more
    // on a fresh connection (receivers dedupe on the delivery id, so this cannot double-deliver
    // anything that was not already at-least-once).
    asio::awaitable<Outcome> exchange_on_pool(Operation& op, const Target& target,
                                              const HostDecision& host, Endpoint& endpoint,
                                              SteadyClock::time_point deadline) {
        const auto request = build_request(op.request, target);
        for (;;) {
            if (op.cancelled)
                co_return Outcome{.ec = asio::error::operation_aborted};
            auto connection = take_idle(endpoint);
            const bool reused = connection != nullptr;
            if (!reused) {
                Outcome failed;
                connection = co_await connect(op, target, host, deadline, failed);
                if (!connection)
                    co_return failed;
            }
            Outcome outcome;
            bool received_any = false;
            bool keep_alive = false;
            op.active = &connection->tcp();
            const auto ec = co_await std::visit(
                [&](auto& stream) {
                    return exchange(stream, *connection, request, deadline, outcome.response,
                                    received_any, keep_alive);
                },
                connection->stream);
            op.active = nullptr;
            if (ec && reused && !received_any && !op.cancelled && is_closed_by_peer(ec))
                continue;
            if (ec)
                co_return failure(exchange_error(ec),
                                  "exchange with " + endpoint_text(target) + ": " + ec.message());
            if (keep_alive && !closed_) {
                connection->tcp().expires_never();
                connection->idle_since = SteadyClock::now();
                endpoint.idle.push_back(std::move(connection));
            }
            co_return outcome;
        }
    }

    http::request<http::string_body> build_request(const HttpRequest& source,
                                                   const Target& target) const {
        http::request<http::string_body> request{http::verb::post, target.path, 11};
        request.set(http::field::host, target.host_header);
        request.set(http::field::user_agent, config_.user_agent);
        for (const auto& [name, value] : source.headers)
            request.insert(name, value);
        request.body() = source.body;
        request.prepare_payload();
        return request;
    }

    // Resolves (unless the host is a literal), vets every address, connects to the vetted ones
    // and for https completes a verified TLS handshake. nullptr with `failed` set on failure.
    asio::awaitable<std::unique_ptr<Connection>> connect(Operation& op, const Target& target,
                                                         const HostDecision& host,
                                                         SteadyClock::time_point deadline,
                                                         Outcome& failed) {
        const auto connect_deadline =
            std::min(deadline, SteadyClock::now() + config_.connect_timeout);
        Resolver::Addresses addresses;
        if (host.literal) {
            addresses.push_back(*host.literal);
        } else {
            auto [ec, resolved] = co_await resolve(op, target.host, connect_deadline);
            if (ec) {
                failed =
                    failure(ec == delivery_errc::connect_timeout ? delivery_errc::connect_timeout
                                                                 : delivery_errc::resolve_failed,
                            "resolve " + target.host + ": " + ec.message());
                co_return nullptr;
            }
            addresses = std::move(resolved);
        }
        if (!host.trusted && !host.literal) {
            for (const auto& address : addresses) {
                if (auto why = policy_.check_address(address)) {
                    failed = failure(delivery_errc::ssrf_refused,
                                     "ssrf: host " + target.host + ": " + *why);
                    co_return nullptr;
                }
            }
        }
        std::vector<tcp::endpoint> endpoints;
        for (const auto& address : addresses)
            endpoints.emplace_back(address, target.port);

        auto connection = target.tls ? std::make_unique<Connection>(strand_, tls_context_)
                                     : std::make_unique<Connection>(strand_);
        auto& socket = connection->tcp();
        op.active = &socket;
        socket.expires_at(connect_deadline);
        auto [ec, connected] = co_await socket.async_connect(endpoints, use_tuple);
        op.active = nullptr;
        if (ec) {
            failed = failure(
                is_timeout(ec) ? delivery_errc::connect_timeout : delivery_errc::connect_failed,
                "connect " + endpoint_text(target) + ": " + ec.message());
            co_return nullptr;
        }
        socket.socket().set_option(tcp::no_delay{true}, ec);
        if (auto* secure = std::get_if<Connection::Secure>(&connection->stream)) {
            if (!prepare_tls(*secure, target, host)) {
                failed = failure(delivery_errc::tls_failed, "cannot set up TLS for " + target.host);
                co_return nullptr;
            }
            op.active = &socket;
            auto [handshake_ec] =
                co_await secure->async_handshake(ssl::stream_base::client, use_tuple);
            op.active = nullptr;
            if (handshake_ec) {
                failed = failure(is_timeout(handshake_ec) ? delivery_errc::connect_timeout
                                                          : delivery_errc::tls_failed,
                                 "TLS with " + endpoint_text(target) + ": " +
                                     tls_failure_text(*secure, handshake_ec));
                co_return nullptr;
            }
        }
        co_return connection;
    }

    // Names get SNI and host name verification; IP literals get no SNI (RFC 6066) and are
    // checked against the certificate's IP addresses.
    static bool prepare_tls(Connection::Secure& stream, const Target& target,
                            const HostDecision& host) {
        SSL* native = stream.native_handle();
        if (host.literal)
            return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(native), target.host.c_str()) == 1;
        return SSL_set_tlsext_host_name(native, target.host.c_str()) == 1 &&
               SSL_set1_host(native, target.host.c_str()) == 1;
    }

    // Waits for the resolver until the connect deadline; a late answer is dropped.
    asio::awaitable<std::pair<error_code, Resolver::Addresses>> resolve(
        Operation& op, const std::string& host, SteadyClock::time_point deadline) {
        struct Answer {
            explicit Answer(asio::steady_timer t) : timer(std::move(t)) {}
            asio::steady_timer timer;
            std::optional<std::pair<error_code, Resolver::Addresses>> result;
        };
        auto answer = std::make_shared<Answer>(asio::steady_timer{strand_, deadline});
        resolver_->async_resolve(
            host, asio::bind_executor(strand_, [answer](error_code ec, Resolver::Addresses found) {
                answer->result.emplace(ec, std::move(found));
                answer->timer.cancel();
            }));
        op.waiting = &answer->timer;
        co_await answer->timer.async_wait(use_tuple);
        op.waiting = nullptr;
        if (op.cancelled)
            co_return std::pair{error_code{asio::error::operation_aborted}, Resolver::Addresses{}};
        if (!answer->result)
            co_return std::pair{error_code{delivery_errc::connect_timeout}, Resolver::Addresses{}};
        co_return std::move(*answer->result);
    }

    // Writes the request and reads the response, keeping at most max_response_body bytes of
    // the body. `received_any` tells whether the receiver answered at all.
    template <class Stream>
    asio::awaitable<error_code> exchange(Stream& stream, Connection& connection,
                                         const http::request<http::string_body>& request,
                                         SteadyClock::time_point deadline, HttpResponse& response,
                                         bool& received_any, bool& keep_alive) {
        connection.tcp().expires_at(deadline);
        auto [write_ec, written] = co_await http::async_write(stream, request, use_tuple);
        if (write_ec)
            co_return write_ec;

        http::response_parser<http::buffer_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(config_.max_response_header));
        parser.body_limit(boost::none);
        auto [header_ec, header_bytes] =
            co_await http::async_read_header(stream, connection.buffer, parser, use_tuple);
        received_any = header_bytes > 0 || connection.buffer.size() > 0;
        if (header_ec)
            co_return header_ec;

        const auto& head = parser.get();
        response.status = head.result_int();
        for (const auto& field : head)
            response.headers.emplace_back(field.name_string(), field.value());

        std::array<char, read_chunk_size> chunk;
        while (!parser.is_done()) {
            parser.get().body().data = chunk.data();
            parser.get().body().size = chunk.size();
            auto [ec, ignored] =
                co_await http::async_read(stream, connection.buffer, parser, use_tuple);
            if (ec && ec != http::error::need_buffer)
                co_return ec;
            const std::size_t got = chunk.size() - parser.get().body().size;
            const std::size_t room = config_.max_response_body - response.body.size();
            response.body.append(chunk.data(), std::min(got, room));
            if (got > room) {
                response.truncated = true;
                break;
            }
        }
        keep_alive = !response.truncated && parser.keep_alive();
        co_return error_code{};
    }

    static asio::awaitable<void> sweep_idle(std::shared_ptr<Impl> self) {
        while (!self->closed_) {
            self->sweep_timer_.expires_after(self->config_.idle_timeout);
            co_await self->sweep_timer_.async_wait(use_tuple);
            const auto now = SteadyClock::now();
            for (auto it = self->endpoints_.begin(); it != self->endpoints_.end();) {
                auto& idle = it->second->idle;
                std::erase_if(idle, [&](const std::unique_ptr<Connection>& c) {
                    return now - c->idle_since >= self->config_.idle_timeout;
                });
                const bool unused =
                    idle.empty() &&
                    it->second->slots.idle(self->config_.max_in_flight_per_endpoint) &&
                    it->second.use_count() == 1;
                it = unused ? self->endpoints_.erase(it) : std::next(it);
            }
        }
    }

    asio::any_io_executor executor_;
    asio::strand<asio::any_io_executor> strand_;
    DeliveryConfig config_;
    std::shared_ptr<Resolver> resolver_;
    AddressPolicy policy_;
    ssl::context tls_context_;
    Slots total_slots_;
    asio::steady_timer sweep_timer_;
    std::unordered_map<std::string, std::shared_ptr<Endpoint>> endpoints_;
    std::unordered_set<Operation*> operations_;
    bool closed_ = false;
};

HttpClient::HttpClient(asio::any_io_executor executor, DeliveryConfig config,
                       std::shared_ptr<Resolver> resolver)
    : impl_(std::make_shared<Impl>(std::move(executor), std::move(config), std::move(resolver))) {
    impl_->start_sweeping();
}

HttpClient::~HttpClient() {
    impl_->cancel_all();
}

void HttpClient::cancel() {
    impl_->cancel_all();
}

void HttpClient::send(HttpRequest request, Handler handler) {
    impl_->send(std::move(request), std::move(handler));
}

}  // namespace herald::detail
