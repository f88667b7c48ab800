#include "delivery/http_client.hpp"

#include "delivery/address_policy.hpp"
#include "delivery/request_target.hpp"

#include <herald/error.hpp>

#include <boost/asio/append.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http/error.hpp>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <deque>
#include <list>
#include <type_traits>
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

std::string endpoint_text(const Target& target) {
    return (target.host.find(':') != std::string::npos ? "[" + target.host + "]" : target.host) +
           ":" + std::to_string(target.port);
}

// One keep-alive connection, plain or TLS. Plain Asio sockets: deadlines are enforced by the
// client's watchdog rather than a timer per socket operation.
struct Connection {
    using Plain = tcp::socket;
    using Secure = ssl::stream<tcp::socket>;
    using Socket = Plain::lowest_layer_type;

    explicit Connection(const asio::any_io_executor& executor)
        : stream(std::in_place_type<Plain>, executor) {}
    Connection(const asio::any_io_executor& executor, ssl::context& context)
        : stream(std::in_place_type<Secure>, executor, context) {}

    Socket& socket() {
        return std::visit([](auto& s) -> Socket& { return s.lowest_layer(); }, stream);
    }

    std::variant<Plain, Secure> stream;
    beast::flat_buffer buffer;  // bytes read past one response, kept for the next
    SteadyClock::time_point idle_since;
};

// One send in progress, and what cancellation or the watchdog has to interrupt. Strand-confined.
struct Operation {
    enum class Phase { queued, connecting, exchanging };

    explicit Operation(HttpRequest r) : request(std::move(r)) {}

    void cancel() {
        cancelled = true;
        interrupt();
    }
    void expire() {
        timed_out = true;
        interrupt();
    }
    bool stopped() const { return cancelled || timed_out; }

    HttpRequest request;
    Phase phase = Phase::queued;
    SteadyClock::time_point deadline = SteadyClock::time_point::max();
    bool cancelled = false;
    bool timed_out = false;
    asio::steady_timer* waiting = nullptr;  // a slot queue or a DNS answer
    Connection::Socket* active = nullptr;   // the connection being used

  private:
    void interrupt() {
        if (waiting != nullptr)
            waiting->cancel();
        if (active != nullptr) {
            error_code ignored;
            active->close(ignored);
        }
    }
};

// A counting semaphore with a FIFO queue, for the in-flight bounds. Strand-confined.
class Slots {
  public:
    Slots(std::size_t limit, asio::any_io_executor executor)
        : available_(limit), executor_(std::move(executor)) {}

    // Takes a free slot at once (the common case, without a coroutine frame).
    bool try_acquire() {
        if (available_ == 0 || !queue_.empty())
            return false;
        --available_;
        return true;
    }

    // Waits in line for a slot: true when one was taken, false when the operation was cancelled.
    asio::awaitable<bool> wait(Operation& op) {
        Waiter waiter{asio::steady_timer{executor_, SteadyClock::time_point::max()}};
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
    asio::any_io_executor executor_;
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

// A keep-alive connection in the client's pool, waiting for its endpoint's next request.
struct IdleConnection {
    std::unique_ptr<Connection> connection;
    std::string key;  // its endpoint's
};
// Every endpoint's idle connections, the longest idle first.
using IdlePool = std::list<IdleConnection>;

// The in-flight bound of one (scheme, host, port), and its connections in the pool.
struct Endpoint {
    Endpoint(std::size_t limit, asio::any_io_executor executor)
        : slots(limit, std::move(executor)) {}

    Slots slots;
    std::deque<IdlePool::iterator> idle;  // the longest idle first, as in the pool
};

bool is_closed_by_peer(const error_code& ec) {
    return ec == http::error::end_of_stream || ec == http::error::partial_message ||
           ec == asio::error::eof || ec == asio::error::connection_reset ||
           ec == asio::error::broken_pipe || ec == asio::error::connection_aborted ||
           ec == ssl::error::stream_truncated;
}

delivery_errc exchange_error(const error_code& ec) {
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

// RFC 9110 token characters, what a header name may consist of.
bool is_token(std::string_view text) {
    static constexpr std::string_view specials = "!#$%&'*+-.^_`|~";
    return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || specials.find(c) != specials.npos;
    });
}

// Header values from integrations are operator input: CR or LF would let them add headers or
// a second request, and framing headers are herald's alone.
std::optional<std::string> invalid_header(const std::vector<HttpHeader>& headers) {
    for (const auto& [name, value] : headers) {
        if (!is_token(name))
            return "header name \"" + name + "\" is not a token";
        if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos)
            return "header " + name + " has a line break or NUL in its value";
        if (beast::iequals(name, "Host") || beast::iequals(name, "Content-Length") ||
            beast::iequals(name, "Transfer-Encoding") || beast::iequals(name, "Connection"))
            return "header " + name + " is set by herald";
    }
    return std::nullopt;
}

bool has_header(const std::vector<HttpHeader>& headers, std::string_view name) {
    return std::any_of(headers.begin(), headers.end(),
                       [&](const HttpHeader& h) { return beast::iequals(h.first, name); });
}

// The request line and header block, written ahead of the body in one gather write; herald
// serializes it itself because Beast's generic serializer costs more than the rest of a request.
std::string request_head(const HttpRequest& source, const Target& target,
                         std::string_view user_agent) {
    std::string head;
    head.reserve(160 + target.path.size());
    head.append("POST ").append(target.path).append(" HTTP/1.1\r\nHost: ");
    head.append(target.host_header).append("\r\n");
    if (!has_header(source.headers, "User-Agent"))
        head.append("User-Agent: ").append(user_agent).append("\r\n");
    for (const auto& [name, value] : source.headers)
        head.append(name).append(": ").append(value).append("\r\n");
    head.append("Content-Length: ").append(std::to_string(source.body.size())).append("\r\n\r\n");
    return head;
}

}  // namespace

class HttpClient::Impl : public std::enable_shared_from_this<Impl> {
  public:
    Impl(asio::any_io_executor executor, DeliveryConfig config, std::shared_ptr<Resolver> resolver)
        : executor_(std::move(executor)),
          strand_(asio::make_strand(executor_)),
          config_(std::move(config)),
          resolver_(std::move(resolver)),
          policy_(config_.ssrf),
          tls_context_(make_tls_context(config_.ca_file)),
          total_slots_(config_.max_in_flight_total, strand_),
          watch_interval_(watch_interval(config_)),
          watchdog_timer_(strand_),
          sweep_timer_(strand_) {}

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
            self->watchdog_timer_.cancel();
            self->sweep_timer_.cancel();
            for (Operation* op : self->operations_)
                op->cancel();
            // Requests winding down may still hold their endpoint: it must not point into the
            // pool any longer.
            for (auto& [key, endpoint] : self->endpoints_)
                endpoint->idle.clear();
            self->endpoints_.clear();
            self->idle_.clear();
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

    // Deadlines are checked this often: a tenth of the shorter timeout, between 10 and 250 ms.
    static std::chrono::milliseconds watch_interval(const DeliveryConfig& config) {
        const auto shortest = std::min(config.connect_timeout, config.total_timeout);
        return std::clamp(shortest / 10, std::chrono::milliseconds{10},
                          std::chrono::milliseconds{250});
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
        self->watch_deadlines();
        if (self->closed_ || op->cancelled)
            co_return Outcome{.ec = asio::error::operation_aborted};
        co_return co_await self->deliver(*op);
    }

    asio::awaitable<Outcome> deliver(Operation& op) {
        auto route = route_request(op.request.url, policy_);
        if (!route.target)
            co_return failure(route.failure, std::move(route.diagnostic));
        if (auto why = invalid_header(op.request.headers))
            co_return failure(delivery_errc::bad_request, std::move(*why));
        const auto endpoint = endpoint_for(route.target->key);
        auto outcome = co_await deliver_in_slots(op, *route.target, route.host, *endpoint);
        // After the slots are given back, so that a request that was the endpoint's last
        // leaves nothing behind, however it ended.
        forget_if_unused(route.target->key, endpoint);
        co_return outcome;
    }

    // Takes the endpoint's slot, then an overall one, and exchanges on the endpoint's pool.
    asio::awaitable<Outcome> deliver_in_slots(Operation& op, const Target& target,
                                              const HostDecision& host, Endpoint& endpoint) {
        if (!endpoint.slots.try_acquire()) {
            const bool granted = co_await endpoint.slots.wait(op);
            if (!granted)
                co_return Outcome{.ec = asio::error::operation_aborted};
        }
        SlotGuard endpoint_slot{endpoint.slots};
        if (!total_slots_.try_acquire()) {
            const bool granted = co_await total_slots_.wait(op);
            if (!granted)
                co_return Outcome{.ec = asio::error::operation_aborted};
        }
        SlotGuard total_slot{total_slots_};

        const auto started = SteadyClock::now();
        auto outcome =
            co_await exchange_on_pool(op, target, host, endpoint, started + config_.total_timeout);
        if (op.cancelled)
            outcome = {.ec = asio::error::operation_aborted};
        else if (op.timed_out)
            outcome = timeout_outcome(op, target);
        outcome.response.latency = SteadyClock::now() - started;
        co_return outcome;
    }

    Outcome timeout_outcome(const Operation& op, const Target& target) const {
        if (op.phase == Operation::Phase::connecting)
            return failure(delivery_errc::connect_timeout,
                           "connecting to " + endpoint_text(target) + " took longer than " +
                               std::to_string(config_.connect_timeout.count()) + " ms");
        return failure(delivery_errc::timeout,
                       "no complete response from " + endpoint_text(target) + " within " +
                           std::to_string(config_.total_timeout.count()) + " ms");
    }

    std::shared_ptr<Endpoint> endpoint_for(const std::string& key) {
        auto& entry = endpoints_[key];
        if (!entry)
            entry = std::make_shared<Endpoint>(config_.max_in_flight_per_endpoint, strand_);
        return entry;
    }

    bool unused(const std::shared_ptr<Endpoint>& endpoint, long references) const {
        return endpoint->idle.empty() && endpoint->slots.idle(config_.max_in_flight_per_endpoint) &&
               endpoint.use_count() <= references;
    }

    // Endpoints are dropped once nothing refers to them, so a stream of one-off hosts does not
    // grow the map.
    void forget_if_unused(const std::string& key, const std::shared_ptr<Endpoint>& endpoint) {
        const auto found = endpoints_.find(key);
        if (found != endpoints_.end() && found->second == endpoint && unused(endpoint, 2))
            endpoints_.erase(found);
    }

    // The endpoint's most recently idle connection that is still fresh and open.
    std::unique_ptr<Connection> take_idle(Endpoint& endpoint) {
        const auto now = SteadyClock::now();
        while (!endpoint.idle.empty()) {
            const auto pooled = endpoint.idle.back();
            endpoint.idle.pop_back();
            auto connection = std::move(pooled->connection);
            idle_.erase(pooled);
            if (now - connection->idle_since < config_.idle_timeout &&
                connection->socket().is_open())
                return connection;
        }
        return nullptr;
    }

    // The pool keeps at most `max_in_flight_total` connections however many endpoints there
    // are: more could never be in use at once, and each holds a file descriptor. The one idle
    // longest, whichever its endpoint, makes room.
    void keep_idle(const std::string& key, Endpoint& endpoint,
                   std::unique_ptr<Connection> connection) {
        if (idle_.size() >= config_.max_in_flight_total)
            close_longest_idle();
        connection->idle_since = SteadyClock::now();
        idle_.push_back({.connection = std::move(connection), .key = key});
        endpoint.idle.push_back(std::prev(idle_.end()));
        if (!sweeping_) {
            sweeping_ = true;
            asio::co_spawn(strand_, sweep_idle(shared_from_this()), asio::detached);
        }
    }

    // Closes the pool's longest idle connection (its endpoint's longest idle too), and forgets
    // the endpoint when that was all that kept it.
    void close_longest_idle() {
        const auto found = endpoints_.find(idle_.front().key);
        found->second->idle.pop_front();
        idle_.pop_front();
        if (unused(found->second, 1))
            endpoints_.erase(found);
    }

    // Sends on a pooled connection when there is one. A pooled connection the receiver closed
    // while it sat idle fails before any response byte arrives; the request then goes once more
    // on a fresh connection (receivers dedupe on the delivery id, so this cannot double-deliver
    // anything that was not already at-least-once).
    asio::awaitable<Outcome> exchange_on_pool(Operation& op, const Target& target,
                                              const HostDecision& host, Endpoint& endpoint,
                                              SteadyClock::time_point deadline) {
        const auto head = request_head(op.request, target, config_.user_agent);
        // Once a pooled connection failed, the request goes on a fresh one, not on the next idle
        // one: each try may have reached the receiver, so it is sent at most twice.
        bool pooled = true;
        for (;;) {
            if (op.stopped())
                co_return Outcome{};
            auto connection = pooled ? take_idle(endpoint) : nullptr;
            const bool reused = connection != nullptr;
            if (!reused) {
                Outcome failed;
                connection = co_await connect(op, target, host, deadline, failed);
                if (!connection)
                    co_return failed;
            }
            op.phase = Operation::Phase::exchanging;
            op.deadline = deadline;
            Outcome outcome;
            bool received_any = false;
            bool keep_alive = false;
            op.active = &connection->socket();
            const auto ec = co_await std::visit(
                [&](auto& stream) {
                    return exchange(stream, *connection, head, op.request.body, outcome.response,
                                    received_any, keep_alive);
                },
                connection->stream);
            op.active = nullptr;
            if (ec && reused && !received_any && !op.stopped() && is_closed_by_peer(ec)) {
                pooled = false;
                continue;
            }
            if (ec)
                co_return failure(exchange_error(ec),
                                  "exchange with " + endpoint_text(target) + ": " + ec.message());
            if (keep_alive && !closed_)
                keep_idle(target.key, endpoint, std::move(connection));
            co_return outcome;
        }
    }

    // Resolves (unless the host is a literal), vets every address, connects to the vetted ones
    // and for https completes a verified TLS handshake. nullptr with `failed` set on failure.
    asio::awaitable<std::unique_ptr<Connection>> connect(Operation& op, const Target& target,
                                                         const HostDecision& host,
                                                         SteadyClock::time_point deadline,
                                                         Outcome& failed) {
        op.phase = Operation::Phase::connecting;
        op.deadline = std::min(deadline, SteadyClock::now() + config_.connect_timeout);
        Resolver::Addresses addresses;
        if (host.literal) {
            addresses.push_back(*host.literal);
        } else {
            auto [ec, resolved] = co_await resolve(op, target.host);
            if (ec) {
                failed = failure(delivery_errc::resolve_failed,
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
        auto& socket = connection->socket();
        op.active = &socket;
        auto [ec, connected] = co_await asio::async_connect(socket, endpoints, use_tuple);
        op.active = nullptr;
        if (op.stopped())
            co_return nullptr;
        if (ec) {
            failed = failure(delivery_errc::connect_failed,
                             "connect " + endpoint_text(target) + ": " + ec.message());
            co_return nullptr;
        }
        socket.set_option(tcp::no_delay{true}, ec);
        if (auto* secure = std::get_if<Connection::Secure>(&connection->stream)) {
            if (!prepare_tls(*secure, target, host)) {
                failed = failure(delivery_errc::tls_failed, "cannot set up TLS for " + target.host);
                co_return nullptr;
            }
            op.active = &socket;
            auto [handshake_ec] =
                co_await secure->async_handshake(ssl::stream_base::client, use_tuple);
            op.active = nullptr;
            if (op.stopped())
                co_return nullptr;
            if (handshake_ec) {
                failed =
                    failure(delivery_errc::tls_failed, "TLS with " + endpoint_text(target) + ": " +
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

    // Waits for the resolver until the answer, a cancellation or the watchdog's connect
    // deadline; a late answer is dropped.
    asio::awaitable<std::pair<error_code, Resolver::Addresses>> resolve(Operation& op,
                                                                        const std::string& host) {
        struct Answer {
            explicit Answer(asio::steady_timer t) : timer(std::move(t)) {}
            asio::steady_timer timer;
            std::optional<std::pair<error_code, Resolver::Addresses>> result;
        };
        auto answer =
            std::make_shared<Answer>(asio::steady_timer{strand_, SteadyClock::time_point::max()});
        resolver_->async_resolve(
            host, asio::bind_executor(strand_, [answer](error_code ec, Resolver::Addresses found) {
                answer->result.emplace(ec, std::move(found));
                answer->timer.cancel();
            }));
        op.waiting = &answer->timer;
        co_await answer->timer.async_wait(use_tuple);
        op.waiting = nullptr;
        if (op.stopped() || !answer->result)
            co_return std::pair{error_code{asio::error::operation_aborted}, Resolver::Addresses{}};
        co_return std::move(*answer->result);
    }

    // Writes the request and reads the response, keeping at most max_response_body bytes of
    // the body. The response is read straight from the connection's buffer, so a response
    // that arrives in one segment costs one read, and bytes past it stay there for the next.
    // `received_any` tells whether the receiver answered at all.
    template <class Stream>
    asio::awaitable<error_code> exchange(Stream& stream, Connection& connection,
                                         const std::string& head, const std::string& body,
                                         HttpResponse& response, bool& received_any,
                                         bool& keep_alive) {
        const std::array<asio::const_buffer, 2> request{asio::buffer(head), asio::buffer(body)};
        beast::buffers_suffix<std::array<asio::const_buffer, 2>> unsent{request};
        if constexpr (std::is_same_v<Stream, Connection::Plain>) {
            // A request almost always fits the socket's send buffer: writing it at once saves
            // the completion round trip through the executor that an asynchronous write costs.
            error_code ec;
            stream.non_blocking(true, ec);
            if (!ec)
                unsent.consume(stream.write_some(unsent, ec));
            if (ec && ec != asio::error::would_block)
                co_return ec;
        }
        if (beast::buffer_bytes(unsent) > 0) {
            auto [write_ec, written] = co_await asio::async_write(stream, unsent, use_tuple);
            if (write_ec)
                co_return write_ec;
        }

        auto& buffer = connection.buffer;
        received_any = buffer.size() > 0;
        ResponseReader reader{
            {.max_header = config_.max_response_header, .max_body = config_.max_response_body}};
        for (;;) {
            const auto pending = buffer.data();
            buffer.consume(reader.feed({static_cast<const char*>(pending.data()), pending.size()}));
            if (reader.state() != ResponseReader::State::need_more)
                break;
            auto [read_ec, n] =
                co_await stream.async_read_some(buffer.prepare(read_chunk_size), use_tuple);
            buffer.commit(n);
            received_any = received_any || n > 0;
            if (read_ec == asio::error::eof)
                reader.end_of_stream();  // a body delimited by the end of the connection
            else if (read_ec)
                co_return read_ec;
        }
        if (reader.state() == ResponseReader::State::failed)
            co_return reader.error();
        keep_alive = reader.keep_alive();
        response = reader.take_response();
        co_return error_code{};
    }

    // Starts the deadline watchdog when the first operation arrives; it stops when none is left.
    void watch_deadlines() {
        if (watching_ || closed_)
            return;
        watching_ = true;
        asio::co_spawn(strand_, watchdog(shared_from_this()), asio::detached);
    }

    static asio::awaitable<void> watchdog(std::shared_ptr<Impl> self) {
        while (!self->operations_.empty() && !self->closed_) {
            self->watchdog_timer_.expires_after(self->watch_interval_);
            co_await self->watchdog_timer_.async_wait(use_tuple);
            const auto now = SteadyClock::now();
            for (Operation* op : self->operations_)
                if (!op->timed_out && op->deadline <= now)
                    op->expire();
        }
        self->watching_ = false;
    }

    // Closes idle connections as they reach the idle timeout, the longest idle first; runs
    // while the pool holds any.
    static asio::awaitable<void> sweep_idle(std::shared_ptr<Impl> self) {
        const auto expiry = [&] {
            return self->idle_.front().connection->idle_since + self->config_.idle_timeout;
        };
        while (!self->idle_.empty() && !self->closed_) {
            self->sweep_timer_.expires_at(expiry());
            co_await self->sweep_timer_.async_wait(use_tuple);
            const auto now = SteadyClock::now();
            while (!self->idle_.empty() && !self->closed_ && expiry() <= now)
                self->close_longest_idle();
        }
        self->sweeping_ = false;
    }

    asio::any_io_executor executor_;
    asio::strand<asio::any_io_executor> strand_;
    DeliveryConfig config_;
    std::shared_ptr<Resolver> resolver_;
    AddressPolicy policy_;
    ssl::context tls_context_;
    Slots total_slots_;
    std::chrono::milliseconds watch_interval_;
    asio::steady_timer watchdog_timer_;
    asio::steady_timer sweep_timer_;
    std::unordered_map<std::string, std::shared_ptr<Endpoint>> endpoints_;
    IdlePool idle_;
    std::unordered_set<Operation*> operations_;
    bool watching_ = false;
    bool sweeping_ = false;
    bool closed_ = false;
};

HttpClient::HttpClient(asio::any_io_executor executor, DeliveryConfig config,
                       std::shared_ptr<Resolver> resolver)
    : impl_(std::make_shared<Impl>(std::move(executor), std::move(config), std::move(resolver))) {}

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
