// The dispatcher's machinery behind herald::Dispatcher: the claim loop and one coroutine per
// delivery, all on one strand of the host's executor. Owned through shared_ptr by the engine and
// by every coroutine it runs, so it outlives the engine until its work has wound down.
#pragma once

#include "delivery/http_client.hpp"
#include "dispatch/delivery_policy.hpp"

#include <herald/dispatcher.hpp>
#include <herald/error.hpp>
#include <herald/job_queue.hpp>
#include <herald/logger.hpp>
#include <herald/metrics.hpp>
#include <herald/secret_store.hpp>
#include <herald/storage.hpp>
#include <herald/template.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

namespace herald::detail {

/// What the dispatcher works with; every pointer but `job_queue` is set.
struct DispatcherServices {
    std::shared_ptr<Storage> storage;
    std::shared_ptr<const Clock> clock;
    std::shared_ptr<const Authorizer> authorizer;
    std::shared_ptr<const SecretStore> secrets;
    std::shared_ptr<JobQueue> job_queue;  ///< null: launch jobs fail
    std::shared_ptr<Resolver> resolver;
    Logger logger;
    std::shared_ptr<Metrics> metrics;  ///< set
};

/// The store calls under way whose answers will post to the dispatcher's executor. A store
/// answers from its own thread, and may outlive the engine; the engine's destructor closes this
/// and waits for the answers still to come, so that once it returns no store thread touches the
/// executor (whose execution context the host may then destroy).
class StoreCalls {
  public:
    /// Counts a call about to start; false once closed (the call must not start).
    bool begin();
    /// The call's answer has been posted and its copy of the executor released.
    void end();
    /// Refuses new calls and waits until every begun call has ended.
    void close_and_wait();

  private:
    std::mutex mutex_;
    std::condition_variable idle_;
    std::size_t pending_ = 0;
    bool closed_ = false;
};

class DispatcherCore : public std::enable_shared_from_this<DispatcherCore> {
  public:
    DispatcherCore(boost::asio::any_io_executor executor, DispatcherServices services,
                   DispatcherConfig config);
    ~DispatcherCore();

    /// Starts the claim loop.
    void start();
    void wake();
    void replay(const Principal& who, std::string_view delivery_id);
    void stop(std::chrono::milliseconds deadline, Dispatcher::StopHandler handler);
    void test_webhook(const Principal& who, WebhookIntegration integration, std::string payload,
                      Dispatcher::TestHandler handler);
    void test_slack(const Principal& who, SlackIntegration integration, std::string title,
                    std::string message, Dispatcher::TestHandler handler);
    /// The engine is going away: stop claiming and abort everything in flight now (aborted
    /// deliveries go back to the outbox), and wait for the store's answers still to come.
    /// Called from any thread but the store's.
    void shutdown();
    /// The failing streak of `entity`'s integration `name` as stored now; nullopt when its last
    /// delivery succeeded (or none failed since it was enabled). Reads the store, from any
    /// thread.
    std::optional<IntegrationStreak> integration_streak(std::string_view entity,
                                                        std::string_view name) const;

  private:
    struct Flight;
    struct Prepared;
    struct Outcome;
    /// One (scheme, host, port), or one job queue.
    struct Endpoint {
        CircuitBreaker breaker;
        std::size_t in_flight = 0;  ///< attempts under way
        std::size_t waiting = 0;    ///< deliveries waiting here for a slot
        /// A moving average of its attempts' latency: how fast its waiting deliveries drain.
        std::chrono::nanoseconds latency{};
        /// Never expires: waiters wait on it, a freed slot wakes one (cancel_one).
        std::unique_ptr<boost::asio::steady_timer> slot_freed;
    };
    /// Settlements gathered while the previous ones are being written, written together; the
    /// deliveries in `settled` leave the dispatcher once they are.
    struct Settlements {
        std::vector<FiringUpdate> history;
        std::vector<OutboxUpdate> outbox;      ///< settlements and renewals (`Kind::renew`)
        std::vector<std::string> settled;      ///< of the settlements
        std::vector<DeliverySettled> notices;  ///< told once written (on_settled, dead letters)
        std::vector<StreakUpdate> streaks;     ///< what the outcomes say of integrations
        /// When the write began: the streaks it reads back are judged as of then, however
        /// late its answer is handled.
        Timestamp written_at{};
    };

    boost::asio::awaitable<void> run();
    /// Claims through `Storage::claim_async`, resuming on the strand; throws what it threw.
    boost::asio::awaitable<ClaimResult> claim(Timestamp now, std::size_t limit,
                                              Timestamp lease_until);
    /// Starts a delivery claimed until `lease` unless this dispatcher holds it already.
    void hold(Delivery delivery, Timestamp lease);
    /// Every third of the lease, renews the leases of the deliveries held for that long.
    boost::asio::awaitable<void> renew_leases();
    boost::asio::awaitable<void> deliver(Delivery delivery, std::shared_ptr<Flight> flight);
    boost::asio::awaitable<Outcome> send_http(Prepared& prepared, Flight& flight);
    boost::asio::awaitable<Outcome> submit_job(Prepared& prepared, Flight& flight);
    /// A test send: its request, built on the strand with secrets read through the resolver.
    struct TestSend {
        std::string entity;
        std::string access_token;  ///< the secret `${ACCESS_TOKEN}` names; empty: none
        std::function<HttpRequest(SecretResolver&, Timestamp)> build;
        bool slack_api = false;  ///< answers are Slack Web API replies
    };
    /// Whether `who` may test-send for `entity`; if not, fails the handler.
    bool may_test(const Principal& who, const std::string& entity,
                  Dispatcher::TestHandler& handler);
    boost::asio::awaitable<void> run_test(TestSend send, Dispatcher::TestHandler handler);
    /// `source` compiled for the first trigger kind it suits: a test send has no event, its
    /// event variables render as "". Throws the error of the last kind tried.
    const Template& compiled_for_test(std::string_view source, TemplateFormat format,
                                      bool access_token);

    Prepared prepare(const Delivery& delivery, int number, Timestamp now);
    const Template& compiled(std::string_view source, TriggerKind trigger, TemplateFormat format,
                             bool access_token);
    Endpoint& endpoint(const std::string& key);
    /// Drops the state of the endpoint `key` when it has nothing to remember (nothing under way
    /// or waiting, its breaker at rest), so delivering to ever more endpoints keeps state for
    /// the busy and the failing ones only; `endpoint(key)` makes it again as it was, but for
    /// its latency estimate, which starts afresh.
    void forget_if_idle(const std::string& key);
    /// Takes one of the endpoint's `max_in_flight_per_endpoint` slots, waiting behind at most as
    /// many others; nullopt when taken, else when the delivery should be tried again (the breaker
    /// is open, too many wait, or the dispatcher is stopping). So a slow endpoint holds few of the
    /// dispatcher's `max_in_flight`, and the rest of its deliveries wait in the outbox.
    boost::asio::awaitable<std::optional<Timestamp>> take_slot(Endpoint& endpoint);
    /// Frees the slot of an attempt that took `latency`; wakes a waiter, or every waiter when
    /// the attempt was the breaker's probe (they may all go, or must all go back).
    void release_slot(Endpoint& endpoint, std::chrono::nanoseconds latency, bool probe);
    /// How long until a delivery turned away from a full endpoint may find room there: the
    /// time its waiting deliveries take at its recent latency, within [1 ms, poll_interval].
    std::chrono::nanoseconds drain_time(const Endpoint& endpoint) const;
    /// Wakes every delivery waiting for a slot (they see `stopping_`).
    void wake_waiters();
    void record(const Delivery& delivery, const Prepared& prepared, Outcome outcome);
    void record_unsent(const Delivery& delivery, int number, Timestamp now, const Error& why);
    /// Queues what an outcome says of the integration's streak for the next write, and
    /// disables an integration that answered 410.
    void track_integration(const std::string& entity, const std::string& name,
                           Settlement::Kind outcome, Timestamp now);
    /// The store's streaks after a write: disables an integration that has failed for
    /// `disable_after`, and tells the operator one that crossed 50, 70 or 90 % of it.
    void judge_streaks(const Settlements& batch, const std::vector<FailingStreak>& failing);
    void disable_integration(std::string_view entity, std::string_view name, std::string reason);
    void return_to_outbox(const Delivery& delivery, Timestamp due);
    /// Queues a settlement of the delivery (and its history update, when there is one) for
    /// the next write; the delivery stays held until it is written.
    void settle(const std::string& delivery_id, std::optional<FiringUpdate> history,
                OutboxUpdate outbox, std::optional<DeliverySettled> notice = std::nullopt);
    /// What the host is told of `delivery`'s outcome once written: made only when someone
    /// listens (`on_settled`), or for a dead letter (`retries_exhausted`).
    std::optional<DeliverySettled> notice_of(const Delivery& delivery, const FiringUpdate& update,
                                             std::optional<Timestamp> retry_at) const;
    /// Counts an operator event and tells the host (`on_operator_event`).
    void tell_operator(OperatorEvent event);
    /// Writes what is queued unless a write is under way; `settled` continues from there.
    void write_settlements();
    void settled(std::shared_ptr<Settlements> batch, std::exception_ptr error, SettleResult result);
    /// A batch is written: the host is told of its outcomes, each held delivery's lease moves
    /// on with its renewal, or is found lost (`result.lost`: the ids the store dropped), and
    /// the streaks are judged.
    void written(const Settlements& batch, const SettleResult& result);
    /// Logs and counts a lease found lost: `what` says what was not recorded.
    void lease_lost(const std::string& delivery_id, std::string_view what);
    /// The callback a store answers through: posts `on_strand(*this, answer...)` to the strand
    /// while the dispatcher lives; begun with `store_calls_.begin()`, it ends the call.
    template <class OnStrand>
    auto answer_on_strand(OnStrand on_strand);
    /// Tells the host a store failed (`DispatcherConfig::on_storage_error`) and returns how
    /// long to wait before trying again: doubling from 10 ms up to `poll_interval`.
    std::chrono::nanoseconds storage_failed(std::string_view operation, std::exception_ptr error,
                                            std::chrono::nanoseconds& backoff);
    /// A store answered again after failing: logged once, and the backoff starts over.
    void storage_recovered(std::string_view operation, std::chrono::nanoseconds& backoff);
    /// Counts and logs a breaker that opened or closed since it was `was_open`.
    void breaker_changed(const std::string& endpoint, const CircuitBreaker& breaker, bool was_open);
    /// Counts an attempt's outcome and logs a failure (never a secret: the recorded error).
    void observe(const Delivery& delivery, const Prepared& prepared, const DeliveryAttempt& attempt,
                 const Settlement& settlement, Timestamp now);
    void finish_flight(const std::string& delivery_id);
    /// Deliveries that count against `max_in_flight`: held, and not waiting for a slot.
    std::size_t active() const noexcept { return flights_.size() - waiting_; }
    /// Wakes the claim loop when it had stopped for want of room.
    void room_freed();
    void complete_stop_if_idle();

    DispatcherServices services_;
    DispatcherConfig config_;
    boost::asio::strand<boost::asio::any_io_executor> strand_;
    HttpClient http_;
    boost::asio::steady_timer wake_timer_;
    boost::asio::steady_timer stop_timer_;
    boost::asio::steady_timer claim_timer_;   ///< the claim loop waits on it for the store
    boost::asio::steady_timer settle_timer_;  ///< the wait before a failed write is retried
    boost::asio::steady_timer renew_timer_;   ///< the renewal loop waits on it
    std::shared_ptr<StoreCalls> store_calls_ = std::make_shared<StoreCalls>();

    // Everything below is touched on `strand_` only.
    bool woken_ = false;
    bool stopping_ = false;
    bool aborting_ = false;  ///< stopping, and past the deadline: unwritten settlements dropped
    bool claiming_ = false;  ///< a claim is under way (stopping waits for it)
    /// Claims pause until then after an endpoint turned deliveries away, so its backlog waits
    /// in the outbox rather than cycling through claims; an endpoint whose queue drains to
    /// half ends the pause.
    Timestamp claims_paused_until_{};
    std::chrono::nanoseconds claim_backoff_{};
    std::chrono::nanoseconds prepare_backoff_{};
    Settlements settlements_;  ///< queued for the next write
    bool writing_settlements_ = false;
    std::chrono::nanoseconds settle_backoff_{};
    /// Every delivery this dispatcher holds (sending or waiting for a slot), by id.
    std::unordered_map<std::string, std::shared_ptr<Flight>> flights_;
    std::size_t waiting_ = 0;  ///< of them, waiting for an endpoint's slot
    std::vector<Dispatcher::StopHandler> stop_handlers_;
    std::unordered_map<std::string, Endpoint> endpoints_;  ///< by scheme://host:port
    /// The failing integrations' stored streaks as last written, by entity '\0' name.
    std::unordered_map<std::string, FailureStreak> failing_;
    std::unordered_map<std::string, Template> templates_;  ///< compiled, by source
    std::mt19937_64 random_{std::random_device{}()};
};

}  // namespace herald::detail
