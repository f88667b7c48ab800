// herald/dispatcher.hpp — carries out firings: webhooks, Slack messages, launch jobs.
//
// An `Engine` built with an executor owns a `Dispatcher` that runs on that executor: it claims
// due deliveries from the outbox, renders them (secrets read at send time), signs, sends through
// keep-alive connection pools, records every attempt in the history and settles the delivery —
// done, retried on the schedule, failed or dead-lettered:
//
// clang-format off
//     asio::io_context io;
//     herald::Engine engine{io.get_executor(), {.storage = storage, .secrets = secrets}};
//     engine.publish(event);                   // from any thread; the dispatcher is woken
//     engine.dispatcher().replay(admin, id);   // a dead or finished delivery, same id
//     engine.dispatcher().async_stop(std::chrono::seconds{10}, [](boost::system::error_code) {});
//     io.run();
// clang-format on
//
// Every HTTP attempt carries `Content-Type: application/json`, `X-Herald-Delivery` (the stable
// delivery id), `X-Herald-Attempt` (1, 2, ...), `X-Herald-Timestamp` (Unix seconds, fresh per
// attempt), the integration's signature headers (fresh per attempt), `Authorization: Bearer`
// when the integration has an access token, and the integration's extra headers.
//
// Outcomes: 2xx finishes; 3xx fails (redirects are not followed); 408, 425, 429, 5xx
// and network errors are retried on `RetryPolicy::schedule` (±jitter; `Retry-After` honoured up
// to a bound); 410 fails and disables the integration; other 4xx fail; a refused destination
// (SSRF rules, malformed URL) fails. When the schedule is exhausted the delivery is dead. An
// integration whose deliveries have failed without a success for `disable_after` is disabled
// and the host told through `on_integration_disabled`. A per-endpoint circuit breaker pauses an
// endpoint that keeps failing; its deliveries wait (without using up attempts) while healthy
// endpoints keep flowing.
#pragma once

#include <herald/authorizer.hpp>
#include <herald/clock.hpp>
#include <herald/delivery_config.hpp>
#include <herald/firing.hpp>
#include <herald/integration.hpp>
#include <herald/metrics.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace herald {

/// When failed attempts are retried. Plain value, like every configuration struct here.
struct RetryPolicy {
    /// The wait before each attempt, measured from the previous attempt's failure (the first
    /// from the firing): its length is the number of attempts. Default: immediately, 5 s,
    /// 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
    std::vector<std::chrono::milliseconds> schedule = {
        std::chrono::seconds{0},  std::chrono::seconds{5}, std::chrono::minutes{5},
        std::chrono::minutes{30}, std::chrono::hours{2},   std::chrono::hours{5},
        std::chrono::hours{10},   std::chrono::hours{10}};
    /// Each wait is scaled by a random factor in [1 - jitter, 1 + jitter].
    double jitter = 0.2;
    /// A `Retry-After` longer than the scheduled wait is honoured up to this bound.
    std::chrono::milliseconds max_retry_after = std::chrono::hours{1};
};

/// The per-endpoint (scheme, host, port) circuit breaker.
struct CircuitBreakerPolicy {
    /// Consecutive retryable failures (network errors, 408, 425, 429, 5xx) that open it; 0
    /// turns the breaker off.
    std::size_t failure_threshold = 5;
    /// How long it stays open before one probe is let through; doubled after each failed
    /// probe, up to `max_open_for`.
    std::chrono::milliseconds open_for = std::chrono::seconds{30};
    std::chrono::milliseconds max_open_for = std::chrono::minutes{10};
};

/// What the host is told when the dispatcher disables an integration. Value type.
struct IntegrationDisabled {
    std::string entity;
    std::string integration;
    std::string reason;  ///< "the endpoint answered 410 Gone", "failing since ..."
    Timestamp time{};
};

/// An integration whose deliveries have failed without a success since `failing_since`, as the
/// dispatcher sees it now (what `Engine::automation_summary` reports). Value type.
struct IntegrationStreak {
    Timestamp failing_since{};  ///< the first failed attempt since its last success
    /// When the dispatcher disables it unless a delivery succeeds before: `failing_since` plus
    /// `DispatcherConfig::disable_after`; nullopt when that is zero (it is never disabled).
    std::optional<Timestamp> disables_at;
};

/// What the host is told when a store fails under the dispatcher. Value type.
struct StorageFailure {
    std::string operation;  ///< "claim" or "settle"
    std::string reason;     ///< the store's error message
    Timestamp time{};
    std::chrono::milliseconds retry_in{};  ///< when the dispatcher tries again
};

/// What the host is told once a delivery's outcome is written to the history (see
/// `DispatcherConfig::on_settled`). Value type.
struct DeliverySettled {
    std::string delivery_id;  ///< the firing's id
    std::string automation_id;
    std::string automation_name;
    std::string entity;
    std::string integration;  ///< the webhook or Slack integration, or the job queue
    /// Finished, Failed, Dead or Skipped; Pending when the attempt failed and another is
    /// scheduled (`retry_at`).
    FiringStatus status = FiringStatus::pending;
    int attempt = 0;           ///< the attempt it came to (1, 2, ...)
    unsigned status_code = 0;  ///< the HTTP status, 0 when none arrived
    std::string error;         ///< as the history records it, secret values masked
    std::optional<Timestamp> retry_at;
    Timestamp time{};
};

/// Something an operator should know about, as the dispatcher sees it happen (see
/// `DispatcherConfig::on_operator_event`). Value type.
struct OperatorEvent {
    OperatorEventKind kind = OperatorEventKind::integration_failing;
    std::string entity;       ///< integration events and retries exhausted
    std::string integration;  ///< integration events and retries exhausted (may be a job queue)
    std::string endpoint;     ///< breaker opened: "https://host:port"
    std::string delivery_id;  ///< retries exhausted
    unsigned percent = 0;     ///< integration failing: 50, 70 or 90 (% of `disable_after`)
    std::string reason;       ///< for people, never a secret
    Timestamp time{};
};

/// Plain configuration; every member has a default.
struct DispatcherConfig {
    DeliveryConfig http;  ///< timeouts, body bounds, TLS trust, SSRF rules, in-flight bounds
    RetryPolicy retry;
    CircuitBreakerPolicy breaker;
    /// An integration whose deliveries keep failing this long without a success is disabled;
    /// zero: never.
    std::chrono::milliseconds disable_after = std::chrono::hours{5 * 24};
    std::size_t max_in_flight = 1024;  ///< deliveries carried out at once
    /// Deliveries that wait in memory for a busy endpoint's slot (see
    /// `DeliveryConfig::max_in_flight_per_endpoint`) without counting against `max_in_flight`;
    /// beyond this they go back to the outbox, due when the endpoint's queue will have drained
    /// at its recent latency (at most `poll_interval` later), and claiming pauses until then
    /// or until the queue is half empty, so a backlog waits in the outbox, not in memory.
    std::size_t max_waiting_per_endpoint = 1024;
    std::size_t claim_batch = 256;  ///< deliveries claimed from the outbox per call
    /// false: this dispatcher never claims from the outbox; it still tests webhooks and queues
    /// replays there (for an engine that serves a web tier while another process delivers, or
    /// a one-off test send).
    bool claim_outbox = true;
    /// How long a claim holds a delivery: one not settled or renewed within this time is
    /// claimed again (its process crashed or stalled). The dispatcher renews the leases of the
    /// deliveries it still holds every third of it, so an attempt may take longer than the
    /// lease; a lease lost all the same (the process stalled past it) is logged as
    /// `delivery.lease_lost`, and what it then learns of that delivery is not recorded.
    std::chrono::milliseconds lease = std::chrono::minutes{5};
    /// The longest the dispatcher sleeps before it looks at the outbox again (it is also woken
    /// by `publish` and `wake`).
    std::chrono::milliseconds poll_interval = std::chrono::seconds{1};
    /// A launch job the `JobQueue` has not answered within this time counts as a failed attempt,
    /// retried on the schedule (a late answer is ignored).
    std::chrono::milliseconds job_timeout = std::chrono::seconds{30};
    /// Response bodies (and job-queue errors) are recorded in the history up to this length.
    std::size_t max_recorded_body = 4096;
    /// The URL of the object a firing is about (a version, a run), shown as a link in Slack
    /// messages; empty string or unset: no link. Called on the dispatcher's executor, and by
    /// `Engine::dry_run` on its caller's thread.
    std::function<std::string(const Firing&)> link_builder;
    /// Told when an integration is disabled; called on the dispatcher's executor, must not
    /// block.
    std::function<void(const IntegrationDisabled&)> on_integration_disabled;
    /// Told when a store fails under the dispatcher (a claim, or writing what attempts came
    /// to); called on the dispatcher's executor, must not block. The dispatcher retries by
    /// itself, waiting 10 ms, then twice as long each time up to `poll_interval`: claimed
    /// deliveries stay held meanwhile, and nothing is lost (a delivery whose outcome could not
    /// be written is sent again once its lease ends).
    std::function<void(const StorageFailure&)> on_storage_error;
    /// Told of every delivery outcome once it is written to the history — finished, retry
    /// scheduled, failed, dead, skipped — so a host can show an automation's status without
    /// polling `history()`; called on the dispatcher's executor, in the order the outcomes were
    /// written, must not block. An outcome the dispatcher could not write before it stopped is
    /// not told (the delivery is claimed again once its lease ends).
    std::function<void(const DeliverySettled&)> on_settled;
    /// Told what an operator should act on (each also counted in
    /// `herald_operator_events_total{kind}`): an integration's failing streak crossing 50, 70
    /// and 90 % of `disable_after` (once each per streak), an integration disabled, a delivery
    /// whose retries are exhausted (once it is written as dead; again only if it is replayed
    /// and dies again), a circuit breaker opening. Called on the dispatcher's executor, must not
    /// block; a host may forward them to an operators' channel.
    std::function<void(const OperatorEvent&)> on_operator_event;
};

/// What a test request (a webhook's or a Slack message's) got back. Value type;
/// thread-compatible.
struct WebhookTestResult {
    unsigned status = 0;  ///< 0 when no response arrived (see `error`)
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;   ///< cut to `DeliveryConfig::max_response_body`, secret values masked
    std::string error;  ///< why no response arrived ("ssrf: ...", "timeout"); empty otherwise
    std::chrono::nanoseconds latency{};
};

namespace detail {
class DispatcherCore;
}

/// The delivery loop of an `Engine`; reached through `Engine::dispatcher()` and owned by it.
/// Thread safety: every member function may be called from any thread. Its work, and every
/// callback it makes (handlers, `link_builder`, `on_integration_disabled`, job-queue
/// handlers) runs on a strand of the executor the engine was built with; completion handlers
/// run on their associated executor, else on that executor, never inline.
class Dispatcher {
  public:
    using StopHandler = boost::asio::any_completion_handler<void(boost::system::error_code)>;
    using TestHandler =
        boost::asio::any_completion_handler<void(boost::system::error_code, WebhookTestResult)>;

    /// Looks at the outbox now rather than at the next poll (e.g. after a `ManualClock` moved).
    void wake();

    /// Sends a dead, failed or finished delivery again, with the same delivery id; attempt
    /// numbers continue. Needs `manage_automations` on the firing's project. Throws
    /// herald::Error: not_found (no such delivery, or its automation is gone and it is not a
    /// dead letter), invalid_argument (it is still pending), permission_denied.
    void replay(const Principal& who, std::string_view delivery_id);

    /// Stops claiming, lets requests in flight finish for up to `deadline`, then cancels the
    /// rest and returns them to the outbox (due at once, attempt not counted). Completes with
    /// `void(error_code)` (always success) once nothing is in flight. Not cancellable.
    template <class CompletionToken>
    auto async_stop(std::chrono::milliseconds deadline, CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken, void(boost::system::error_code)>(
            [this](auto handler, std::chrono::milliseconds d) {
                stop(d, StopHandler{std::move(handler)});
            },
            token, deadline);
    }

    /// Sends one request to `integration` (need not be stored yet) with `payload`, a JSON
    /// template whose `${SECRET}` and `${ACCESS_TOKEN}` references are resolved from the
    /// integration's entity (event variables render as ""), through the same SSRF rules, signing
    /// and headers as a delivery. No retries, no history. Needs `manage_integrations` on the
    /// entity. Completes with `void(error_code, WebhookTestResult)`: an error code only when the
    /// request could not be built (errc::permission_denied, invalid_json, not_found for a
    /// missing secret), the result's `error` then saying why (the template's field and spot);
    /// a network failure is a result with `error` set and no error code. Not cancellable.
    template <class CompletionToken>
    auto async_test_webhook(const Principal& who, WebhookIntegration integration,
                            std::string payload, CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken,
                                           void(boost::system::error_code, WebhookTestResult)>(
            [this](auto handler, Principal w, WebhookIntegration i, std::string p) {
                test_webhook(w, std::move(i), std::move(p), TestHandler{std::move(handler)});
            },
            token, who, std::move(integration), std::move(payload));
    }

    /// Sends one message to `integration` (need not be stored yet), as a Slack notification
    /// would look: `title` and `message` are text templates whose event variables render as ""
    /// (a blank title omits the header), the automation shown is "herald test message", the
    /// user `who`. The incoming-webhook URL or bot token is read from the entity's secrets; the
    /// same SSRF rules apply. No retries, no history. Needs `manage_integrations` on the entity.
    /// Completes with `void(error_code, WebhookTestResult)`: an error code only when the
    /// message could not be built (errc::permission_denied; invalid_argument for a template
    /// that names a secret; not_found for a missing secret; `error` says why, as for a
    /// webhook); a Slack Web API refusal
    /// (`{"ok": false, "error": "channel_not_found"}`) is a result whose `error` is
    /// "slack: channel_not_found". Not cancellable.
    template <class CompletionToken>
    auto async_test_slack(const Principal& who, SlackIntegration integration, std::string title,
                          std::string message, CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken,
                                           void(boost::system::error_code, WebhookTestResult)>(
            [this](auto handler, Principal w, SlackIntegration i, std::string t, std::string m) {
                test_slack(w, std::move(i), std::move(t), std::move(m),
                           TestHandler{std::move(handler)});
            },
            token, who, std::move(integration), std::move(title), std::move(message));
    }

  private:
    friend class Engine;
    explicit Dispatcher(std::shared_ptr<detail::DispatcherCore> core) noexcept
        : core_(std::move(core)) {}
    void stop(std::chrono::milliseconds deadline, StopHandler handler);
    void test_webhook(const Principal& who, WebhookIntegration integration, std::string payload,
                      TestHandler handler);
    void test_slack(const Principal& who, SlackIntegration integration, std::string title,
                    std::string message, TestHandler handler);

    std::shared_ptr<detail::DispatcherCore> core_;
};

}  // namespace herald
