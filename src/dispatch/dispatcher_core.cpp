#include "dispatch/dispatcher_core.hpp"

#include "dispatch/outgoing_request.hpp"
#include "template/action_templates.hpp"
#include "util/exception_message.hpp"

#include <herald/error.hpp>

#include <boost/asio/append.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <mutex>

namespace herald::detail {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;

/// One delivery held by the dispatcher: the signal that aborts it when the dispatcher stops,
/// and the lease it is held under.
struct DispatcherCore::Flight {
    asio::cancellation_signal abort;
    Timestamp lease{};        ///< the end of its lease: what its settlement and renewal present
    bool settling = false;    ///< its outcome is being written
    bool renewing = false;    ///< a renewal of its lease is queued or being written
    bool lease_lost = false;  ///< another claim holds it now: its outcome will not be recorded
    /// Claimed again while its outcome was being written (due again at once): started when
    /// that write is done, unless it was written under this newer claim's lease.
    std::optional<Delivery> next;
};

/// A delivery ready to go: the request (or job) and what the history shows of it.
struct DispatcherCore::Prepared {
    std::optional<HttpRequest> http;
    std::optional<JobRequest> job;
    bool slack_api = false;   ///< answers are Slack Web API replies ({"ok": false} fails)
    std::string endpoint;     ///< scheme://host:port; the job queue for jobs
    std::string entity;       ///< of the integration
    std::string integration;  ///< name; empty for jobs
    std::string masked_payload;
    std::unique_ptr<SecretResolver> secrets;  ///< what was read, to redact echoes
};

/// What an attempt came to.
struct DispatcherCore::Outcome {
    DeliveryAttempt attempt;
    Verdict verdict = Verdict::fail;
    std::optional<std::chrono::nanoseconds> retry_after;
    bool aborted = false;  ///< stopped before it finished: back to the outbox, not counted
};

namespace {

/// The reason text for an error; never holds request data.
std::string describe(boost::system::error_code ec, const HttpResponse& response) {
    return response.diagnostic.empty() ? ec.message() : response.diagnostic;
}

std::string endpoint_of(const boost::urls::url& url) {
    std::string key(url.scheme());
    key += "://";
    key += url.encoded_host();
    key += ':';
    key += url.has_port() ? std::string(url.port()) : (url.scheme() == "https" ? "443" : "80");
    return key;
}

std::string integration_key(std::string_view entity, std::string_view name) {
    std::string key(entity);
    key += '\0';
    key += name;
    return key;
}

Integration with_enabled(const Integration& integration, bool enabled) {
    return std::visit(
        [&](auto spec) {
            spec.enabled = enabled;
            return Integration(std::move(spec));
        },
        integration.spec());
}

/// The job's override object: `{"override": {...}}` and a bare object both give `{...}`.
std::string override_object(std::string_view rendered) {
    if (rendered.empty())
        return "{}";
    boost::json::value v = boost::json::parse(rendered);
    if (auto* object = v.if_object()) {
        if (auto* inner = object->if_contains("override"); inner && object->size() == 1)
            return boost::json::serialize(*inner);
    }
    return boost::json::serialize(v);
}

/// Calls a handler once, on `executor`, whichever of several sources answers first.
template <class Signature>
class FirstAnswer;
template <class... Args>
class FirstAnswer<void(Args...)> {
  public:
    FirstAnswer(asio::any_completion_handler<void(Args...)> handler, asio::any_io_executor executor)
        : handler_(std::move(handler)), executor_(std::move(executor)) {}

    void answer(Args... args) {
        std::lock_guard lock(mutex_);
        if (!handler_)
            return;
        asio::post(executor_, asio::append(std::move(handler_), std::move(args)...));
    }

  private:
    std::mutex mutex_;
    asio::any_completion_handler<void(Args...)> handler_;
    asio::any_io_executor executor_;
};

const MemorySecretStore& no_secrets() {
    static const MemorySecretStore empty;
    return empty;
}

template <class T>
void append(std::vector<T>& to, std::vector<T>&& from) {
    to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
}

}  // namespace

DispatcherCore::DispatcherCore(asio::any_io_executor executor, DispatcherServices services,
                               DispatcherConfig config)
    : services_(std::move(services)),
      config_(std::move(config)),
      strand_(asio::make_strand(executor)),
      http_(executor, config_.http, services_.resolver),
      wake_timer_(strand_),
      stop_timer_(strand_),
      claim_timer_(strand_),
      settle_timer_(strand_),
      renew_timer_(strand_) {}

DispatcherCore::~DispatcherCore() {
    services_.metrics->deliveries_in_flight(-static_cast<int>(flights_.size()));
    services_.metrics->endpoints_tracked(-static_cast<int>(endpoints_.size()));
    services_.metrics->breakers_opened(
        -static_cast<int>(std::count_if(endpoints_.begin(), endpoints_.end(), [](const auto& e) {
            return e.second.breaker.state() != CircuitBreaker::State::closed;
        })));
}

bool StoreCalls::begin() {
    std::lock_guard lock(mutex_);
    if (closed_)
        return false;
    ++pending_;
    return true;
}

void StoreCalls::end() {
    std::lock_guard lock(mutex_);
    if (--pending_ == 0)
        idle_.notify_all();
}

void StoreCalls::close_and_wait() {
    std::unique_lock lock(mutex_);
    closed_ = true;
    idle_.wait(lock, [this] { return pending_ == 0; });
}

template <class OnStrand>
auto DispatcherCore::answer_on_strand(OnStrand on_strand) {
    // The executor counts as outstanding work while the store holds the callback, so `run()`
    // does not return while the store still has to answer; the copy is released before the
    // call counts as ended, as the engine may be destroyed, and the context after it, then.
    auto work = std::optional(asio::prefer(strand_, asio::execution::outstanding_work.tracked));
    return [weak = weak_from_this(), calls = store_calls_, work = std::move(work),
            on_strand = std::move(on_strand)](auto... args) mutable {
        if (auto self = weak.lock())
            asio::post(*work, [self, on_strand = std::move(on_strand),
                               ... args = std::move(args)]() mutable {
                on_strand(*self, std::move(args)...);
            });
        work.reset();
        calls->end();
    };
}

void DispatcherCore::start() {
    services_.logger.log(LogLevel::info, "dispatcher.started",
                         {{"claims", config_.claim_outbox ? "yes" : "no"}});
    if (config_.claim_outbox) {
        asio::co_spawn(strand_, run(), asio::detached);
        asio::co_spawn(strand_, renew_leases(), asio::detached);
    }
}

void DispatcherCore::wake() {
    asio::post(strand_, [self = shared_from_this()] {
        self->woken_ = true;
        self->wake_timer_.cancel();
    });
}

awaitable<void> DispatcherCore::run() {
    auto self = shared_from_this();
    while (!stopping_) {
        woken_ = false;
        const Timestamp now = services_.clock->now();
        const bool paused = now < claims_paused_until_;
        const std::size_t room =
            !paused && config_.max_in_flight > active() ? config_.max_in_flight - active() : 0;
        const std::size_t limit = std::min(room, config_.claim_batch);
        std::chrono::nanoseconds wait = config_.poll_interval;
        if (paused) {
            wait = claims_paused_until_ - now;
        } else if (limit > 0) {
            ClaimResult claimed;
            std::exception_ptr error;
            const Timestamp lease_until = now + config_.lease;
            try {
                claimed = co_await claim(now, limit, lease_until);
            } catch (...) {
                // What was claimed stays leased and returns.
                error = std::current_exception();
            }
            if (error) {
                wait = storage_failed("claim", error, claim_backoff_);
            } else {
                storage_recovered("claim", claim_backoff_);
                for (Delivery& d : claimed.deliveries)
                    hold(std::move(d), lease_until);
                if (claimed.deliveries.size() == limit) {
                    // There may be more due: let the new deliveries start, then claim again.
                    co_await asio::post(strand_, use_awaitable);
                    continue;
                }
                if (woken_)
                    continue;
                if (claimed.next_due)
                    wait = std::clamp<std::chrono::nanoseconds>(*claimed.next_due - now,
                                                                std::chrono::nanoseconds{0},
                                                                config_.poll_interval);
            }
        } else if (woken_) {
            continue;
        }
        wake_timer_.expires_after(wait);
        co_await wake_timer_.async_wait(asio::as_tuple(use_awaitable));
    }
    complete_stop_if_idle();  // it waited for the claim under way
}

awaitable<ClaimResult> DispatcherCore::claim(Timestamp now, std::size_t limit,
                                             Timestamp lease_until) {
    // The store answers from its own thread; the answer reaches the strand through a post.
    struct Answer {
        std::exception_ptr error;
        ClaimResult result;
        bool done = false;
    };
    if (!store_calls_->begin())  // the engine is going away
        co_return ClaimResult{};
    auto answer = std::make_shared<Answer>();
    claiming_ = true;
    services_.storage->claim_async(
        now, limit, lease_until,
        answer_on_strand(
            [answer](DispatcherCore& self, std::exception_ptr error, ClaimResult result) {
                answer->error = error;
                answer->result = std::move(result);
                answer->done = true;
                self.claim_timer_.cancel();
            }));
    while (!answer->done) {
        claim_timer_.expires_at(asio::steady_timer::time_point::max());
        co_await claim_timer_.async_wait(asio::as_tuple(use_awaitable));
    }
    claiming_ = false;
    if (answer->error)
        std::rethrow_exception(answer->error);
    co_return std::move(answer->result);
}

void DispatcherCore::hold(Delivery delivery, Timestamp lease) {
    auto [it, fresh] = flights_.try_emplace(delivery.firing.id, std::make_shared<Flight>());
    Flight& flight = *it->second;
    // Claimed again by this dispatcher (its lease ended before it could renew it): held under
    // the new lease from now on.
    flight.lease = lease;
    flight.lease_lost = false;
    if (fresh) {
        services_.metrics->deliveries_in_flight(1);
        asio::co_spawn(strand_, deliver(std::move(delivery), it->second), asio::detached);
    } else if (flight.settling)
        flight.next = std::move(delivery);
    // Otherwise it is under way, and the one delivery under way carries on.
}

awaitable<void> DispatcherCore::renew_leases() {
    auto self = shared_from_this();
    const auto every =
        std::max<std::chrono::nanoseconds>(config_.lease / 3, std::chrono::milliseconds{1});
    while (!stopping_) {
        renew_timer_.expires_after(every);
        co_await renew_timer_.async_wait(asio::as_tuple(use_awaitable));
        if (stopping_)
            break;
        const Timestamp now = services_.clock->now();
        for (auto& [id, flight] : flights_) {
            // Held for a third of its lease or more, and still at work.
            if (flight->settling || flight->renewing || flight->lease_lost ||
                flight->lease - now > config_.lease - every)
                continue;
            flight->renewing = true;
            settlements_.outbox.push_back({.delivery_id = id,
                                           .kind = OutboxUpdate::Kind::renew,
                                           .due = now + config_.lease,
                                           .lease = flight->lease});
        }
        write_settlements();
    }
}

const Template& DispatcherCore::compiled(std::string_view source, TriggerKind trigger,
                                         TemplateFormat format, bool access_token) {
    std::string key;
    key += static_cast<char>('0' + static_cast<int>(format));
    key += static_cast<char>('A' + static_cast<int>(trigger));
    key += access_token ? 'T' : 'F';
    key += source;
    auto it = templates_.find(key);
    if (it == templates_.end()) {
        // Bounded: a host with ever-changing templates recompiles rather than grows.
        if (templates_.size() >= 4096)
            templates_.clear();
        Template t = Template::compile(
            source, {.trigger = trigger, .format = format, .access_token = access_token});
        it = templates_.emplace(std::move(key), std::move(t)).first;
    }
    return it->second;
}

DispatcherCore::Prepared DispatcherCore::prepare(const Delivery& delivery, int number,
                                                 Timestamp now) {
    const Firing& firing = delivery.firing;
    const AttemptInfo attempt{.delivery_id = firing.id, .number = number, .now = now};
    const SecretStore& store = services_.secrets ? *services_.secrets : no_secrets();
    Prepared p;
    p.entity = firing.event.entity;

    if (const auto* job = delivery.action.get_if<action::LaunchJob>()) {
        p.endpoint = "job-queue:" + job->queue;
        p.secrets = std::make_unique<SecretResolver>(store, p.entity, now);
        std::string override_json = "{}";
        if (!job->override.empty()) {
            const Template& t =
                compiled(job->override, delivery.trigger, TemplateFormat::json, false);
            override_json = override_object(t.render(firing, *p.secrets));
            p.masked_payload = t.render_masked(firing);
        }
        p.job = JobRequest{.delivery_id = firing.id,
                           .attempt = number,
                           .entity = p.entity,
                           .project = job->project,
                           .queue = job->queue,
                           .job = job->job,
                           .job_version = job->job_version,
                           .override_json = std::move(override_json),
                           .automation_id = firing.automation_id,
                           .automation_name = firing.automation_name,
                           .event = firing.event,
                           .metric = firing.metric};
        return p;
    }

    const auto* webhook = delivery.action.get_if<action::Webhook>();
    const auto* slack = delivery.action.get_if<action::SlackNotification>();
    p.integration = webhook ? webhook->integration : slack->integration;
    const auto integration = services_.storage->integrations().find(p.entity, p.integration);
    if (!integration)
        throw Error(errc::not_found, "integration",
                    "integration '" + p.integration + "' does not exist");

    if (const auto* target = integration->get_if<WebhookIntegration>(); target && webhook) {
        p.secrets = std::make_unique<SecretResolver>(store, p.entity, now, target->access_token);
        const Template& t = compiled(payload_source(*webhook, delivery.trigger), delivery.trigger,
                                     TemplateFormat::json, !target->access_token.empty());
        p.masked_payload = t.render_masked(firing);
        p.http = webhook_request(*target, t.render(firing, *p.secrets), attempt, *p.secrets);
    } else if (const auto* target = integration->get_if<SlackIntegration>(); target && slack) {
        p.secrets = std::make_unique<SecretResolver>(store, p.entity, now);
        const Template& title =
            compiled(slack->title, delivery.trigger, TemplateFormat::text, false);
        const Template& message =
            compiled(slack->message, delivery.trigger, TemplateFormat::text, false);
        const std::string link = config_.link_builder ? config_.link_builder(firing) : "";
        const bool api = target->webhook_url_secret.empty();
        const std::string channel = api ? target->channel : "";
        p.masked_payload = slack_message(*slack, firing, title.render_masked(firing),
                                         message.render_masked(firing), link, channel);
        p.http = slack_request(*target,
                               slack_message(*slack, firing, title.render(firing, *p.secrets),
                                             message.render(firing, *p.secrets), link, channel),
                               attempt, *p.secrets);
        p.slack_api = api;
    } else {
        throw Error(errc::invalid_argument, "integration",
                    "integration '" + p.integration + "' is not a " +
                        std::string(to_string(delivery.action.kind())) + " integration");
    }
    if (!integration->enabled())
        throw Error(errc::unsupported, "integration",
                    "integration '" + p.integration + "' is disabled");
    p.endpoint = endpoint_of(p.http->url);
    return p;
}

DispatcherCore::Endpoint& DispatcherCore::endpoint(const std::string& key) {
    auto it = endpoints_.find(key);
    if (it == endpoints_.end()) {
        auto timer = std::make_unique<asio::steady_timer>(strand_);
        timer->expires_at(asio::steady_timer::time_point::max());
        it = endpoints_
                 .emplace(key, Endpoint{.breaker = CircuitBreaker{config_.breaker},
                                        .slot_freed = std::move(timer)})
                 .first;
        services_.metrics->endpoints_tracked(1);
    }
    return it->second;
}

void DispatcherCore::forget_if_idle(const std::string& key) {
    const auto it = endpoints_.find(key);
    if (it->second.in_flight == 0 && it->second.waiting == 0 && it->second.breaker.at_rest()) {
        endpoints_.erase(it);
        services_.metrics->endpoints_tracked(-1);
    }
}

awaitable<std::optional<Timestamp>> DispatcherCore::take_slot(Endpoint& e) {
    for (;;) {
        const Timestamp now = services_.clock->now();
        if (stopping_)
            co_return now;
        if (e.in_flight < config_.http.max_in_flight_per_endpoint) {
            if (e.breaker.allow(now)) {
                ++e.in_flight;
                co_return std::nullopt;
            }
            // Open: come back when it lets a probe through. Half-open: wait here for what
            // the probe finds.
            if (e.breaker.state() != CircuitBreaker::State::half_open)
                co_return e.breaker.open_until();
        }
        if (e.waiting >= config_.max_waiting_per_endpoint) {
            const std::chrono::nanoseconds drain = drain_time(e);
            claims_paused_until_ = std::max(claims_paused_until_, now + drain);
            co_return now + drain;
        }
        // Waiting deliveries leave the dispatcher's room to other endpoints.
        ++e.waiting;
        ++waiting_;
        room_freed();
        co_await e.slot_freed->async_wait(asio::as_tuple(use_awaitable));
        --e.waiting;
        --waiting_;
        if (e.waiting == config_.max_waiting_per_endpoint / 2 &&
            claims_paused_until_ != Timestamp{}) {
            claims_paused_until_ = {};
            wake_timer_.cancel();
        }
    }
}

void DispatcherCore::release_slot(Endpoint& e, std::chrono::nanoseconds latency, bool probe) {
    --e.in_flight;
    e.latency = e.latency == std::chrono::nanoseconds{} ? latency : (7 * e.latency + latency) / 8;
    if (probe)
        e.slot_freed->cancel();
    else
        e.slot_freed->cancel_one();
}

std::chrono::nanoseconds DispatcherCore::drain_time(const Endpoint& e) const {
    if (e.latency == std::chrono::nanoseconds{})
        return config_.poll_interval;  // nothing has come back from it yet
    const auto slots = static_cast<std::int64_t>(
        std::max<std::size_t>(config_.http.max_in_flight_per_endpoint, 1));
    return std::clamp<std::chrono::nanoseconds>(
        e.latency * static_cast<std::int64_t>(e.waiting + 1) / slots, std::chrono::milliseconds{1},
        config_.poll_interval);
}

void DispatcherCore::wake_waiters() {
    for (auto& [key, e] : endpoints_)
        e.slot_freed->cancel();
}

awaitable<void> DispatcherCore::deliver(Delivery delivery, std::shared_ptr<Flight> flight) {
    auto self = shared_from_this();
    const Timestamp start = services_.clock->now();
    const int number = delivery.attempts + 1;
    if (stopping_) {
        return_to_outbox(delivery, start);
        co_return;
    }
    Prepared prepared;
    try {
        prepared = prepare(delivery, number, start);
    } catch (const Error& e) {
        if (e.code() == errc::storage_failure) {
            // Reading the integration or a secret failed: nothing is wrong with the delivery.
            const auto wait = storage_failed("prepare", std::current_exception(), prepare_backoff_);
            return_to_outbox(delivery, start + wait);
        } else {
            storage_recovered("prepare", prepare_backoff_);
            record_unsent(delivery, number, start, e);
        }
        co_return;
    }
    storage_recovered("prepare", prepare_backoff_);
    Endpoint& endpoint = this->endpoint(prepared.endpoint);
    const std::optional<Timestamp> later = co_await take_slot(endpoint);
    if (later) {
        forget_if_idle(prepared.endpoint);
        return_to_outbox(delivery, *later);
        co_return;
    }
    const bool probe = endpoint.breaker.state() == CircuitBreaker::State::half_open;
    // (No co_await inside ?: — GCC 12 mishandles its temporaries.)
    Outcome outcome;
    if (prepared.http)
        outcome = co_await send_http(prepared, *flight);
    else
        outcome = co_await submit_job(prepared, *flight);
    release_slot(endpoint, outcome.attempt.latency, probe);
    outcome.attempt.number = number;
    outcome.attempt.time = start;
    if (outcome.aborted) {
        const bool was_open = endpoint.breaker.state() != CircuitBreaker::State::closed;
        endpoint.breaker.on_abandoned();
        breaker_changed(prepared.endpoint, endpoint.breaker, was_open);
        forget_if_idle(prepared.endpoint);
        return_to_outbox(delivery, services_.clock->now());
        co_return;
    }
    const bool was_open = endpoint.breaker.state() != CircuitBreaker::State::closed;
    if (outcome.verdict == Verdict::retry)
        endpoint.breaker.on_failure(services_.clock->now());
    else
        endpoint.breaker.on_success();
    breaker_changed(prepared.endpoint, endpoint.breaker, was_open);
    forget_if_idle(prepared.endpoint);
    record(delivery, prepared, std::move(outcome));
}

awaitable<DispatcherCore::Outcome> DispatcherCore::send_http(Prepared& prepared, Flight& flight) {
    Outcome outcome;
    auto sent = co_await http_.async_send(
        std::move(*prepared.http),
        asio::bind_cancellation_slot(flight.abort.slot(), asio::as_tuple(use_awaitable)));
    auto& [ec, response] = sent;
    flight.abort.slot().clear();
    outcome.attempt.latency = response.latency;
    if (ec == asio::error::operation_aborted) {
        outcome.aborted = true;
        co_return outcome;
    }
    if (ec) {
        if (ec == delivery_errc::ssrf_refused)
            services_.metrics->ssrf_refused();
        outcome.verdict = classify_error(ec);
        outcome.attempt.error = describe(ec, response);
        co_return outcome;
    }
    outcome.attempt.status_code = static_cast<int>(response.status);
    outcome.attempt.response_body =
        std::string(cut_utf8(prepared.secrets->redact(response.body), config_.max_recorded_body));
    outcome.verdict = classify_status(response.status);
    if (auto retry_after = response.header("Retry-After"))
        outcome.retry_after = parse_retry_after(*retry_after, services_.clock->now());
    if (outcome.verdict != Verdict::success) {
        outcome.attempt.error = "HTTP " + std::to_string(response.status);
    } else if (prepared.slack_api) {
        if (std::string error = slack_api_error(response.body); !error.empty()) {
            outcome.verdict = slack_error_is_transient(error) ? Verdict::retry : Verdict::fail;
            outcome.attempt.error = "slack: " + error;
        }
    }
    co_return outcome;
}

awaitable<DispatcherCore::Outcome> DispatcherCore::submit_job(Prepared& prepared, Flight& flight) {
    Outcome outcome;
    if (!services_.job_queue) {
        outcome.attempt.error = "no job queue is configured";
        co_return outcome;
    }
    const auto started = std::chrono::steady_clock::now();
    using Answer = FirstAnswer<void(boost::system::error_code, JobResult)>;
    auto token = asio::as_tuple(use_awaitable);
    auto answered =
        co_await asio::async_initiate<decltype(token), void(boost::system::error_code, JobResult)>(
            [&](auto handler) {
                auto answer = std::make_shared<Answer>(std::move(handler), strand_);
                // A queue that never answers must not hold the endpoint's slot for good.
                auto deadline = std::make_shared<asio::steady_timer>(strand_, config_.job_timeout);
                flight.abort.slot().assign([answer, deadline](asio::cancellation_type) {
                    answer->answer(asio::error::operation_aborted, JobResult{});
                    deadline->cancel();
                });
                deadline->async_wait([answer](boost::system::error_code ec) {
                    if (!ec)
                        answer->answer(asio::error::timed_out, JobResult{});
                });
                // The queue may keep its handler past the dispatcher: it holds no timer.
                services_.job_queue->async_submit(
                    std::move(*prepared.job),
                    [answer, weak = std::weak_ptr(deadline), strand = strand_](JobResult r) {
                        answer->answer({}, std::move(r));
                        asio::post(strand, [weak] {
                            if (auto timer = weak.lock())
                                timer->cancel();
                        });
                    });
            },
            token);
    auto& [ec, result] = answered;
    flight.abort.slot().clear();
    outcome.attempt.latency = std::chrono::steady_clock::now() - started;
    if (ec == asio::error::timed_out) {
        outcome.verdict = Verdict::retry;
        const auto ms = config_.job_timeout.count();
        outcome.attempt.error =
            "the job queue did not answer within " +
            (ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms");
        co_return outcome;
    }
    if (ec) {
        outcome.aborted = true;
        co_return outcome;
    }
    outcome.verdict =
        result.accepted ? Verdict::success : (result.retry ? Verdict::retry : Verdict::fail);
    // A queue may echo what it was handed (the override, with secrets) in its error.
    outcome.attempt.error =
        std::string(cut_utf8(prepared.secrets->redact(result.error), config_.max_recorded_body));
    outcome.attempt.response_body = result.job_id;
    co_return outcome;
}

void DispatcherCore::record(const Delivery& delivery, const Prepared& prepared, Outcome outcome) {
    const Timestamp now = services_.clock->now();
    const int made = outcome.attempt.number;
    const Settlement s = settle_attempt(config_.retry, made - delivery.round_start, outcome.verdict,
                                        outcome.retry_after, now,
                                        std::uniform_real_distribution<double>(0.0, 1.0)(random_));
    FiringStatus status = FiringStatus::pending;
    OutboxUpdate update{.delivery_id = delivery.firing.id, .attempts = made};
    switch (s.kind) {
        case Settlement::Kind::finish:
            status = FiringStatus::finished;
            break;
        case Settlement::Kind::retry:
            update.kind = OutboxUpdate::Kind::reschedule;
            update.due = s.due;
            break;
        case Settlement::Kind::dead:
            status = FiringStatus::dead;
            update.kind = OutboxUpdate::Kind::dead_letter;
            break;
        case Settlement::Kind::fail:
        case Settlement::Kind::disable_integration:
            status = FiringStatus::failed;
            break;
    }
    observe(delivery, prepared, outcome.attempt, s, now);
    FiringUpdate history{.firing_id = delivery.firing.id,
                         .status = status,
                         .attempt = std::move(outcome.attempt),
                         .payload = prepared.masked_payload};
    std::optional<DeliverySettled> notice = notice_of(
        delivery, history, s.kind == Settlement::Kind::retry ? std::optional(s.due) : std::nullopt);
    if (notice && prepared.secrets)  // a receiver may have echoed a secret into the error
        notice->error = prepared.secrets->redact(notice->error);
    // Before the settlement, which may be written at once: the streak goes with it.
    if (!prepared.integration.empty())
        track_integration(prepared.entity, prepared.integration, s.kind, now);
    settle(delivery.firing.id, std::move(history), std::move(update), std::move(notice));
}

void DispatcherCore::record_unsent(const Delivery& delivery, int number, Timestamp now,
                                   const Error& why) {
    // Nothing was sent; the reason is kept as the attempt's error. A disabled integration
    // skips its firings, anything else (missing integration or secret) fails them.
    const bool skipped = why.code() == errc::unsupported;
    services_.metrics->delivery_settled(skipped ? DeliveryOutcome::skipped
                                                : DeliveryOutcome::failed);
    services_.logger.log(skipped ? LogLevel::info : LogLevel::warning,
                         skipped ? "delivery.skipped" : "delivery.failed",
                         {{"delivery", delivery.firing.id},
                          {"automation", delivery.firing.automation_id},
                          {"action", to_string(delivery.action.kind())},
                          {"outcome", skipped ? "skipped" : "failed"},
                          {"reason", why.reason()}});
    FiringUpdate history{
        .firing_id = delivery.firing.id,
        .status = skipped ? FiringStatus::skipped : FiringStatus::failed,
        .attempt = DeliveryAttempt{.number = number, .time = now, .error = why.reason()}};
    std::optional<DeliverySettled> notice = notice_of(delivery, history, std::nullopt);
    settle(delivery.firing.id, std::move(history), OutboxUpdate{.delivery_id = delivery.firing.id},
           std::move(notice));
}

std::optional<DeliverySettled> DispatcherCore::notice_of(const Delivery& delivery,
                                                         const FiringUpdate& update,
                                                         std::optional<Timestamp> retry_at) const {
    if (!config_.on_settled && !(update.status == FiringStatus::dead && config_.on_operator_event))
        return std::nullopt;
    const DeliveryAttempt& attempt = *update.attempt;
    return DeliverySettled{.delivery_id = delivery.firing.id,
                           .automation_id = delivery.firing.automation_id,
                           .automation_name = delivery.firing.automation_name,
                           .entity = delivery.firing.event.entity,
                           .integration = delivery.firing.integration,
                           .status = update.status,
                           .attempt = attempt.number,
                           .status_code = static_cast<unsigned>(attempt.status_code),
                           .error = attempt.error,
                           .retry_at = retry_at,
                           .time = attempt.time};
}

void DispatcherCore::tell_operator(OperatorEvent event) {
    services_.metrics->operator_event(event.kind);
    if (config_.on_operator_event)
        config_.on_operator_event(event);
}

void DispatcherCore::track_integration(const std::string& entity, const std::string& name,
                                       Settlement::Kind outcome, Timestamp now) {
    switch (outcome) {
        case Settlement::Kind::finish:
            settlements_.streaks.push_back({.entity = entity, .integration = name});
            return;
        case Settlement::Kind::disable_integration:
            disable_integration(entity, name, "the endpoint answered 410 Gone");
            return;
        case Settlement::Kind::retry:
        case Settlement::Kind::dead:
        case Settlement::Kind::fail:
            settlements_.streaks.push_back(
                {.entity = entity, .integration = name, .failed_at = now});
            return;
    }
}

void DispatcherCore::judge_streaks(const Settlements& batch,
                                   const std::vector<FailingStreak>& failing) {
    // Healthy integrations, the common case, have nothing here to end.
    if (!failing_.empty())
        for (const StreakUpdate& u : batch.streaks)
            if (!u.failed_at)
                failing_.erase(integration_key(u.entity, u.integration));
    const Timestamp now = batch.written_at;
    for (const FailingStreak& stored : failing) {
        FailureStreak& streak = failing_[integration_key(stored.entity, stored.integration)];
        streak.stored(stored.since);
        const bool disable = streak.disables(now, config_.disable_after);
        const unsigned percent = disable ? 0 : streak.crossed(now, config_.disable_after);
        if (!disable && percent == 0)
            continue;  // most failures: nothing to tell, no reason to format
        std::string since = "its deliveries have failed since " + format_rfc3339(stored.since);
        if (disable) {
            disable_integration(stored.entity, stored.integration, std::move(since));
            continue;
        }
        tell_operator({.kind = OperatorEventKind::integration_failing,
                       .entity = stored.entity,
                       .integration = stored.integration,
                       .percent = percent,
                       .reason = since + ", " + std::to_string(percent) +
                                 " % of the time after which it is disabled",
                       .time = now});
    }
}

void DispatcherCore::disable_integration(std::string_view entity, std::string_view name,
                                         std::string reason) {
    // Disabled, it fails no more: its streak is over, and starts afresh once it is enabled.
    failing_.erase(integration_key(entity, name));
    settlements_.streaks.push_back(
        {.entity = std::string(entity), .integration = std::string(name)});
    IntegrationStore& store = services_.storage->integrations();
    const auto found = store.find(entity, name);
    if (!found || !found->enabled())
        return;
    store.update(with_enabled(*found, false));
    services_.metrics->integration_disabled();
    services_.logger.log(LogLevel::warning, "integration.disabled",
                         {{"entity", entity}, {"integration", name}, {"reason", reason}});
    const Timestamp now = services_.clock->now();
    tell_operator({.kind = OperatorEventKind::integration_disabled,
                   .entity = std::string(entity),
                   .integration = std::string(name),
                   .reason = reason,
                   .time = now});
    if (config_.on_integration_disabled)
        config_.on_integration_disabled({.entity = std::string(entity),
                                         .integration = std::string(name),
                                         .reason = std::move(reason),
                                         .time = now});
}

std::optional<IntegrationStreak> DispatcherCore::integration_streak(std::string_view entity,
                                                                    std::string_view name) const {
    const std::optional<Timestamp> since =
        services_.storage->integrations().failing_since(entity, name);
    if (!since)
        return std::nullopt;
    IntegrationStreak streak{.failing_since = *since};
    if (config_.disable_after.count() > 0)
        streak.disables_at = *since + config_.disable_after;
    return streak;
}

void DispatcherCore::return_to_outbox(const Delivery& delivery, Timestamp due) {
    settle(delivery.firing.id, std::nullopt,
           OutboxUpdate{.delivery_id = delivery.firing.id,
                        .kind = OutboxUpdate::Kind::reschedule,
                        .due = due,
                        .attempts = delivery.attempts});
}

void DispatcherCore::settle(const std::string& delivery_id, std::optional<FiringUpdate> history,
                            OutboxUpdate outbox, std::optional<DeliverySettled> notice) {
    if (auto it = flights_.find(delivery_id); it != flights_.end())
        it->second->settling = true;
    if (history)
        settlements_.history.push_back(std::move(*history));
    if (notice)
        settlements_.notices.push_back(std::move(*notice));
    settlements_.outbox.push_back(std::move(outbox));
    settlements_.settled.push_back(delivery_id);
    write_settlements();
}

void DispatcherCore::write_settlements() {
    if (writing_settlements_ || (settlements_.outbox.empty() && settlements_.streaks.empty()))
        return;
    if (!store_calls_->begin())  // the engine is going away: the leases bring them back
        return;
    // Each update presents the lease its delivery is held under now; a delivery that settles
    // (or has left) needs no renewal.
    std::erase_if(settlements_.outbox, [&](OutboxUpdate& u) {
        const auto it = flights_.find(u.delivery_id);
        if (u.kind != OutboxUpdate::Kind::renew) {
            if (it != flights_.end())
                u.lease = it->second->lease;
            return false;
        }
        if (it == flights_.end())
            return true;
        if (!it->second->settling)
            return false;
        it->second->renewing = false;
        return true;
    });
    if (settlements_.outbox.empty() && settlements_.streaks.empty())
        return store_calls_->end();
    writing_settlements_ = true;
    auto batch = std::make_shared<Settlements>(std::exchange(settlements_, {}));
    batch->written_at = services_.clock->now();
    services_.storage->settle_async(
        {.history = batch->history, .outbox = batch->outbox, .streaks = batch->streaks},
        answer_on_strand(
            [batch](DispatcherCore& self, std::exception_ptr error, SettleResult result) {
                self.settled(batch, error, std::move(result));
            }));
}

void DispatcherCore::settled(std::shared_ptr<Settlements> batch, std::exception_ptr error,
                             SettleResult result) {
    if (error && !aborting_) {
        // Written again, before what arrived since, once the store has had a moment; the
        // deliveries stay held meanwhile. Renewals are not: the next round makes them anew.
        std::erase_if(batch->outbox, [&](const OutboxUpdate& u) {
            if (u.kind != OutboxUpdate::Kind::renew)
                return false;
            if (auto it = flights_.find(u.delivery_id); it != flights_.end())
                it->second->renewing = false;
            return true;
        });
        const std::chrono::nanoseconds wait = storage_failed("settle", error, settle_backoff_);
        append(batch->history, std::move(settlements_.history));
        append(batch->outbox, std::move(settlements_.outbox));
        append(batch->settled, std::move(settlements_.settled));
        append(batch->notices, std::move(settlements_.notices));
        append(batch->streaks, std::move(settlements_.streaks));
        settlements_ = std::move(*batch);
        settle_timer_.expires_after(wait);
        settle_timer_.async_wait([self = shared_from_this()](boost::system::error_code) {
            self->writing_settlements_ = false;
            self->write_settlements();
        });
        return;
    }
    // Written, or the dispatcher is going away: a delivery whose outcome was not written is
    // claimed again once its lease ends.
    if (!error)
        storage_recovered("settle", settle_backoff_);
    settle_backoff_ = {};
    writing_settlements_ = false;
    if (!error)
        written(*batch, result);
    for (const std::string& id : batch->settled)
        finish_flight(id);
    write_settlements();
}

void DispatcherCore::written(const Settlements& batch, const SettleResult& result) {
    judge_streaks(batch, result.failing);
    const std::vector<std::string>& lost = result.lost;
    const auto is_lost = [&](const std::string& id) {
        return std::find(lost.begin(), lost.end(), id) != lost.end();
    };
    for (const DeliverySettled& notice : batch.notices) {
        if (is_lost(notice.delivery_id))
            continue;
        if (config_.on_settled)
            config_.on_settled(notice);
        if (notice.status == FiringStatus::dead)
            tell_operator({.kind = OperatorEventKind::retries_exhausted,
                           .entity = notice.entity,
                           .integration = notice.integration,
                           .delivery_id = notice.delivery_id,
                           .reason = "every attempt failed; the last: " + notice.error,
                           .time = notice.time});
    }
    for (const OutboxUpdate& u : batch.outbox) {
        const auto it = flights_.find(u.delivery_id);
        if (!u.lease || it == flights_.end())
            continue;
        Flight& flight = *it->second;
        if (u.kind == OutboxUpdate::Kind::renew) {
            flight.renewing = false;
            if (flight.lease != *u.lease)
                continue;  // claimed again meanwhile: held under that claim's lease
            if (!is_lost(u.delivery_id)) {
                flight.lease = u.due;
            } else {
                flight.lease_lost = true;
                lease_lost(u.delivery_id, "what this attempt comes to");
            }
            continue;
        }
        if (is_lost(u.delivery_id) && !flight.lease_lost)
            lease_lost(u.delivery_id, "its outcome here");
        // Claimed again while this was written: when it was written under that newest claim's
        // lease, it was recorded (nothing more to do) or that claim is lost too (another holds
        // it); under an older lease, the newer claim still has a delivery to carry out.
        if (flight.lease == *u.lease)
            flight.next.reset();
    }
}

void DispatcherCore::lease_lost(const std::string& delivery_id, std::string_view what) {
    services_.metrics->lease_lost();
    services_.logger.log(LogLevel::warning, "delivery.lease_lost",
                         {{"delivery", delivery_id},
                          {"reason", "its lease ended and another claim holds it now; " +
                                         std::string(what) + " is not recorded"}});
}

std::chrono::nanoseconds DispatcherCore::storage_failed(std::string_view operation,
                                                        std::exception_ptr error,
                                                        std::chrono::nanoseconds& backoff) {
    backoff = backoff == std::chrono::nanoseconds{}
                  ? std::chrono::nanoseconds{std::chrono::milliseconds{10}}
                  : std::min<std::chrono::nanoseconds>(2 * backoff, config_.poll_interval);
    const auto retry_in = std::chrono::ceil<std::chrono::milliseconds>(backoff);
    std::string reason = message_of(error);
    services_.metrics->storage_failed();
    services_.logger.log(LogLevel::error, "storage.failed",
                         {{"operation", operation},
                          {"reason", reason},
                          {"retry_in_ms", std::to_string(retry_in.count())}});
    if (config_.on_storage_error)
        config_.on_storage_error({.operation = std::string(operation),
                                  .reason = std::move(reason),
                                  .time = services_.clock->now(),
                                  .retry_in = retry_in});
    return backoff;
}

void DispatcherCore::storage_recovered(std::string_view operation,
                                       std::chrono::nanoseconds& backoff) {
    if (backoff == std::chrono::nanoseconds{})
        return;
    backoff = {};
    services_.logger.log(LogLevel::info, "storage.recovered", {{"operation", operation}});
}

void DispatcherCore::breaker_changed(const std::string& key, const CircuitBreaker& breaker,
                                     bool was_open) {
    const bool open = breaker.state() != CircuitBreaker::State::closed;
    if (open == was_open)
        return;
    services_.metrics->breakers_opened(open ? 1 : -1);
    if (open) {
        services_.logger.log(LogLevel::warning, "breaker.opened",
                             {{"endpoint", key}, {"until", format_rfc3339(breaker.open_until())}});
        tell_operator({.kind = OperatorEventKind::breaker_opened,
                       .endpoint = key,
                       .reason = "open until " + format_rfc3339(breaker.open_until()),
                       .time = services_.clock->now()});
    } else
        services_.logger.log(LogLevel::info, "breaker.closed", {{"endpoint", key}});
}

void DispatcherCore::observe(const Delivery& delivery, const Prepared& prepared,
                             const DeliveryAttempt& attempt, const Settlement& settlement,
                             Timestamp now) {
    Metrics& metrics = *services_.metrics;
    metrics.attempt_finished(attempt.latency);
    DeliveryOutcome outcome = DeliveryOutcome::failed;
    switch (settlement.kind) {
        case Settlement::Kind::finish:
            metrics.delivery_settled(DeliveryOutcome::success);
            metrics.delivered(now - delivery.firing.time);
            return;
        case Settlement::Kind::retry:
            outcome = DeliveryOutcome::retry;
            break;
        case Settlement::Kind::dead:
            outcome = DeliveryOutcome::dead;
            break;
        case Settlement::Kind::fail:
        case Settlement::Kind::disable_integration:
            break;
    }
    metrics.delivery_settled(outcome);
    const LogLevel level = outcome == DeliveryOutcome::dead ? LogLevel::error : LogLevel::warning;
    if (!services_.logger.enabled(level))
        return;
    // The attempt's error is what the history records; redacted once more in case a job queue
    // or a receiver echoed a secret into it.
    const std::string reason =
        prepared.secrets ? prepared.secrets->redact(attempt.error) : attempt.error;
    const std::string number = std::to_string(attempt.number);
    const std::string status = std::to_string(attempt.status_code);
    const std::string due =
        outcome == DeliveryOutcome::retry ? format_rfc3339(settlement.due) : std::string();
    services_.logger.log(level,
                         outcome == DeliveryOutcome::dead ? "delivery.dead" : "delivery.failed",
                         {{"delivery", delivery.firing.id},
                          {"automation", delivery.firing.automation_id},
                          {"action", to_string(delivery.action.kind())},
                          {"integration", prepared.integration},
                          {"endpoint", prepared.endpoint},
                          {"attempt", number},
                          {"status", status},
                          {"outcome", to_string(outcome)},
                          {"reason", reason},
                          {"retry_at", due}});
}

void DispatcherCore::finish_flight(const std::string& delivery_id) {
    auto it = flights_.find(delivery_id);
    if (it == flights_.end())
        return;
    if (it->second->next && !stopping_) {
        // Claimed again while its outcome was written: carried out again from the outbox's
        // copy, under a new flight.
        Delivery next = std::move(*it->second->next);
        const Timestamp lease = it->second->lease;
        it->second = std::make_shared<Flight>();
        it->second->lease = lease;
        asio::co_spawn(strand_, deliver(std::move(next), it->second), asio::detached);
        return;
    }
    flights_.erase(it);
    services_.metrics->deliveries_in_flight(-1);
    room_freed();
    complete_stop_if_idle();
}

void DispatcherCore::room_freed() {
    if (!stopping_ && active() + 1 == config_.max_in_flight)
        wake_timer_.cancel();  // the claim loop was full: claim more
}

void DispatcherCore::stop(std::chrono::milliseconds deadline, Dispatcher::StopHandler handler) {
    asio::post(strand_,
               [self = shared_from_this(), deadline, handler = std::move(handler)]() mutable {
                   self->stopping_ = true;
                   self->wake_timer_.cancel();
                   self->renew_timer_.cancel();
                   self->wake_waiters();
                   self->stop_handlers_.push_back(std::move(handler));
                   self->stop_timer_.expires_after(deadline);
                   self->stop_timer_.async_wait([self](boost::system::error_code ec) {
                       if (ec)
                           return;
                       self->aborting_ = true;
                       for (const auto& [id, flight] : self->flights_)
                           flight->abort.emit(asio::cancellation_type::terminal);
                   });
                   self->complete_stop_if_idle();
               });
}

void DispatcherCore::shutdown() {
    asio::post(strand_, [self = shared_from_this()] {
        self->stopping_ = true;
        self->aborting_ = true;
        self->wake_timer_.cancel();
        self->renew_timer_.cancel();
        self->wake_waiters();
        for (const auto& [id, flight] : self->flights_)
            flight->abort.emit(asio::cancellation_type::terminal);
    });
    store_calls_->close_and_wait();
}

void DispatcherCore::complete_stop_if_idle() {
    if (!stopping_ || !flights_.empty() || claiming_)
        return;
    stop_timer_.cancel();
    if (!stop_handlers_.empty())
        services_.logger.log(LogLevel::info, "dispatcher.stopped");
    for (auto& handler : stop_handlers_)
        asio::post(strand_, asio::append(std::move(handler), boost::system::error_code{}));
    stop_handlers_.clear();
}

void DispatcherCore::replay(const Principal& who, std::string_view delivery_id) {
    HistoryStore& history = services_.storage->history();
    const auto firing = history.find(delivery_id);
    if (!firing)
        throw Error(errc::not_found, "delivery_id",
                    "no delivery '" + std::string(delivery_id) + "'");
    if (!services_.authorizer->allows(
            who, Permission::manage_automations,
            Scope::for_project(firing->event.entity, firing->event.project)))
        throw Error(errc::permission_denied, "", "replaying needs manage_automations");
    if (firing->status == FiringStatus::pending)
        throw Error(errc::invalid_argument, "delivery_id", "the delivery is still pending");
    const Timestamp now = services_.clock->now();
    if (!services_.storage->outbox().replay(delivery_id, now)) {
        // Carried out again as it was recorded, whatever became of its automation since.
        std::optional<RecordedAction> recorded = history.recorded_action(delivery_id);
        if (!recorded)
            throw Error(
                errc::not_found, "delivery_id",
                "delivery '" + std::string(delivery_id) + "' has no recorded action to replay");
        Delivery d{.firing = *firing,
                   .action = std::move(recorded->action),
                   .trigger = recorded->trigger,
                   .attempts = static_cast<int>(firing->attempts.size()),
                   .round_start = static_cast<int>(firing->attempts.size()),
                   .due = now};
        d.firing.attempts.clear();
        d.firing.payload.clear();
        d.firing.status = FiringStatus::pending;
        services_.storage->outbox().enqueue({&d, 1});
    }
    const FiringUpdate pending{.firing_id = std::string(delivery_id),
                               .status = FiringStatus::pending};
    history.update({&pending, 1});
    wake();
}

bool DispatcherCore::may_test(const Principal& who, const std::string& entity,
                              Dispatcher::TestHandler& handler) {
    if (services_.authorizer->allows(who, Permission::manage_integrations,
                                     Scope::for_entity(entity)))
        return true;
    asio::post(strand_, asio::append(std::move(handler), make_error_code(errc::permission_denied),
                                     WebhookTestResult{}));
    return false;
}

void DispatcherCore::test_webhook(const Principal& who, WebhookIntegration integration,
                                  std::string payload, Dispatcher::TestHandler handler) {
    if (!may_test(who, integration.entity, handler))
        return;
    TestSend send{.entity = integration.entity, .access_token = integration.access_token};
    send.build = [this, integration = std::move(integration), payload = std::move(payload)](
                     SecretResolver& secrets, Timestamp now) {
        const Template& t =
            compiled_for_test(payload, TemplateFormat::json, !integration.access_token.empty());
        return webhook_request(integration, t.render(Firing{}, secrets),
                               {.delivery_id = "test", .number = 1, .now = now}, secrets);
    };
    asio::co_spawn(strand_, run_test(std::move(send), std::move(handler)), asio::detached);
}

void DispatcherCore::test_slack(const Principal& who, SlackIntegration integration,
                                std::string title, std::string message,
                                Dispatcher::TestHandler handler) {
    if (!may_test(who, integration.entity, handler))
        return;
    TestSend send{.entity = integration.entity,
                  .slack_api = integration.webhook_url_secret.empty()};
    send.build = [this, integration = std::move(integration), title = std::move(title),
                  message = std::move(message),
                  user = who.user](SecretResolver& secrets, Timestamp now) {
        // Copies: compiling the message may clear the cache the title sits in.
        const Template title_text = compiled_for_test(title, TemplateFormat::text, false);
        const Template message_text = compiled_for_test(message, TemplateFormat::text, false);
        Firing firing{.automation_name = "herald test message",
                      .event = {.author = user, .entity = integration.entity},
                      .reason = "a test message: no automation fired"};
        const std::string channel =
            integration.webhook_url_secret.empty() ? integration.channel : "";
        return slack_request(integration,
                             slack_message({}, firing, title_text.render(firing, secrets),
                                           message_text.render(firing, secrets), "", channel),
                             {.delivery_id = "test", .number = 1, .now = now}, secrets);
    };
    asio::co_spawn(strand_, run_test(std::move(send), std::move(handler)), asio::detached);
}

const Template& DispatcherCore::compiled_for_test(std::string_view source, TemplateFormat format,
                                                  bool access_token) {
    for (std::size_t kind = 0;; ++kind) {
        try {
            return compiled(source, static_cast<TriggerKind>(kind), format, access_token);
        } catch (const Error& e) {
            if (e.code() != errc::invalid_argument || e.field() != "template" ||
                kind + 1 == trigger_kind_count)
                throw;
        }
    }
}

awaitable<void> DispatcherCore::run_test(TestSend send, Dispatcher::TestHandler handler) {
    auto self = shared_from_this();
    const Timestamp now = services_.clock->now();
    const SecretStore& store = services_.secrets ? *services_.secrets : no_secrets();
    SecretResolver secrets{store, send.entity, now, send.access_token};
    std::optional<HttpRequest> request;
    boost::system::error_code failure;
    WebhookTestResult refused;
    try {
        request = send.build(secrets, now);
    } catch (const Error& e) {
        failure = make_error_code(e.code());
        refused.error = e.what();  // field and reason; herald's errors never hold secret values
    }
    if (failure) {
        asio::post(strand_, asio::append(std::move(handler), failure, std::move(refused)));
        co_return;
    }
    auto sent = co_await http_.async_send(std::move(*request), asio::as_tuple(use_awaitable));
    auto& [ec, response] = sent;
    if (ec == delivery_errc::ssrf_refused)
        services_.metrics->ssrf_refused();
    // A receiver may echo what it got (the access token, a secret in the payload) anywhere.
    for (auto& header : response.headers)
        header.second = secrets.redact(header.second);
    WebhookTestResult result{.status = response.status,
                             .headers = std::move(response.headers),
                             .body = secrets.redact(response.body),
                             .error = ec ? describe(ec, response) : std::string(),
                             .latency = response.latency};
    if (!ec && send.slack_api && result.status / 100 == 2)
        if (std::string error = slack_api_error(result.body); !error.empty())
            result.error = "slack: " + error;
    asio::post(strand_,
               asio::append(std::move(handler), boost::system::error_code{}, std::move(result)));
}

}  // namespace herald::detail
