// The dispatcher's machinery behind herald::Dispatcher: the claim loop and one coroutine per
// delivery, all on one strand of the host's executor. Owned through shared_ptr by the engine and
// by every coroutine it runs, so it outlives the engine until its work has wound down.
#pragma once

#include "delivery/http_client.hpp"
#include "dispatch/delivery_policy.hpp"

#include <herald/dispatcher.hpp>
#include <herald/error.hpp>
#include <herald/job_queue.hpp>
#include <herald/secret_store.hpp>
#include <herald/storage.hpp>
#include <herald/template.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <memory>
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
};

class DispatcherCore : public std::enable_shared_from_this<DispatcherCore> {
  public:
    DispatcherCore(boost::asio::any_io_executor executor, DispatcherServices services,
                   DispatcherConfig config);

    /// Starts the claim loop.
    void start();
    void wake();
    void replay(const Principal& who, std::string_view delivery_id);
    void stop(std::chrono::milliseconds deadline, Dispatcher::StopHandler handler);
    void test_webhook(const Principal& who, WebhookIntegration integration, std::string payload,
                      Dispatcher::TestHandler handler);
    /// The engine is going away: stop claiming and abort everything in flight now (aborted
    /// deliveries go back to the outbox).
    void shutdown();

  private:
    struct Flight;
    struct Prepared;
    struct Outcome;
    /// One (scheme, host, port), or one job queue.
    struct Endpoint {
        CircuitBreaker breaker;
        std::size_t in_flight = 0;  ///< attempts under way
        std::size_t waiting = 0;    ///< deliveries waiting here for a slot
        /// Never expires: waiters wait on it, a freed slot wakes one (cancel_one).
        std::unique_ptr<boost::asio::steady_timer> slot_freed;
    };

    boost::asio::awaitable<void> run();
    boost::asio::awaitable<void> deliver(Delivery delivery, std::shared_ptr<Flight> flight);
    boost::asio::awaitable<Outcome> send_http(Prepared& prepared, Flight& flight);
    boost::asio::awaitable<Outcome> submit_job(Prepared& prepared, Flight& flight);
    boost::asio::awaitable<void> run_test(WebhookIntegration integration, std::string payload,
                                          Dispatcher::TestHandler handler);

    Prepared prepare(const Delivery& delivery, int number, Timestamp now);
    const Template& compiled(std::string_view source, TriggerKind trigger, TemplateFormat format,
                             bool access_token);
    Endpoint& endpoint(const std::string& key);
    /// Takes one of the endpoint's `max_in_flight_per_endpoint` slots, waiting behind at most as
    /// many others; nullopt when taken, else when the delivery should be tried again (the breaker
    /// is open, too many wait, or the dispatcher is stopping). So a slow endpoint holds few of the
    /// dispatcher's `max_in_flight`, and the rest of its deliveries wait in the outbox.
    boost::asio::awaitable<std::optional<Timestamp>> take_slot(Endpoint& endpoint);
    void release_slot(Endpoint& endpoint);
    /// Wakes every delivery waiting for a slot (they see `stopping_`).
    void wake_waiters();
    void record(const Delivery& delivery, const Prepared& prepared, Outcome outcome);
    void record_unsent(const Delivery& delivery, int number, Timestamp now, const Error& why);
    /// Disables an integration that answered 410 or has kept failing too long.
    void track_integration(const std::string& entity, const std::string& name,
                           Settlement::Kind outcome, Timestamp now);
    void disable_integration(std::string_view entity, std::string_view name, std::string reason);
    void return_to_outbox(const Delivery& delivery, Timestamp due);
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

    // Everything below is touched on `strand_` only.
    bool woken_ = false;
    bool stopping_ = false;
    /// Every delivery this dispatcher holds (sending or waiting for a slot), by id.
    std::unordered_map<std::string, std::shared_ptr<Flight>> flights_;
    std::size_t waiting_ = 0;  ///< of them, waiting for an endpoint's slot
    std::vector<Dispatcher::StopHandler> stop_handlers_;
    std::unordered_map<std::string, Endpoint> endpoints_;     ///< by scheme://host:port
    std::unordered_map<std::string, FailureStreak> failing_;  ///< by entity '\0' name
    std::unordered_map<std::string, Template> templates_;     ///< compiled, by source
    std::mt19937_64 random_{std::random_device{}()};
};

}  // namespace herald::detail
