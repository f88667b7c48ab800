// herald/engine.hpp — the façade a host links in.
//
// clang-format off
//     herald::Engine engine{{.storage = std::make_shared<herald::MemoryStorage>()}};
//     engine.automations().create(admin, automation);
//     herald::PublishReceipt r = engine.publish(event);  // from any thread
//     const std::string& id = r.firings.front().automation_id;
//     for (const herald::Firing& f : engine.history().by_automation(id))
//         std::cout << f.reason << '\n';
// clang-format on
//
// `publish` finds the enabled automations whose scope and trigger match the event through an
// index keyed on event kind and scope (not a scan) — for run triggers, those whose metric window
// condition holds and whose cooldown for the run has passed — records a `Firing` for each, and
// returns once they are recorded; `async_publish` does the same without blocking the caller.
// Thread safety: every member function may be called from any thread.
#pragma once

#include <herald/authorizer.hpp>
#include <herald/automation_manager.hpp>
#include <herald/clock.hpp>
#include <herald/dispatcher.hpp>
#include <herald/dry_run.hpp>
#include <herald/event.hpp>
#include <herald/firing.hpp>
#include <herald/integration_manager.hpp>
#include <herald/job_queue.hpp>
#include <herald/logger.hpp>
#include <herald/metrics.hpp>
#include <herald/resolver.hpp>
#include <herald/retention.hpp>
#include <herald/secret_manager.hpp>
#include <herald/secret_store.hpp>
#include <herald/storage.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

namespace herald {
namespace detail {
class Periodic;
}

/// Plain configuration; every member has a default.
struct EngineConfig {
    std::shared_ptr<Storage> storage;              ///< default: a new MemoryStorage
    std::shared_ptr<const Clock> clock;            ///< default: SystemClock
    std::shared_ptr<const Authorizer> authorizer;  ///< default: DefaultAuthorizer
    /// How the dispatcher of an engine built with an executor carries out firings.
    DispatcherConfig dispatch;
    std::shared_ptr<JobQueue> job_queue;   ///< where launch jobs go; default: none (they fail)
    std::shared_ptr<Resolver> resolver;    ///< default: SystemResolver on the engine's executor
    std::shared_ptr<SecretStore> secrets;  ///< default: a new MemorySecretStore
    /// What the engine and its dispatcher tell an operator (see logger.hpp); default: nothing.
    Logger logger;
    /// Where they count what they do (see metrics.hpp); default: a new Metrics.
    std::shared_ptr<Metrics> metrics;
    /// Which projects of an entity are registries (a model registry, a dataset registry). When
    /// set, a REGISTRY scope must name a registry and a PROJECT scope must not,
    /// `LINK_ARTIFACT` and `UNLINK_ARTIFACT` fire only for links into (and out of) a registry,
    /// and `AutomationManager::list_applying_to` leaves those out elsewhere. Unset: herald
    /// cannot tell, so any project may be given a registry scope and links fire wherever they
    /// happen. Called from any thread, on every link event: must be thread-safe and cheap.
    std::function<bool(std::string_view entity, std::string_view project)> is_registry;
    /// How long the history keeps firings: set, the engine prunes every `interval` on a thread
    /// of its own (see retention.hpp). Unset: nothing is pruned unless `Engine::prune` or
    /// `herald prune` is called.
    std::optional<RetentionPolicy> retention;
    /// How often an engine on a store that other processes write too (other engines on one
    /// PostgreSQL database, the `herald` tool) looks for automations they created, changed,
    /// enabled, disabled or deleted (`AutomationStore::revision`), on a thread of its own; a
    /// change reaches matching within about this long. Zero: only when `Engine::refresh` is
    /// called. Not used for a store only this process writes (memory, SQLite).
    std::chrono::milliseconds refresh_interval = std::chrono::seconds{1};
};

/// The most firings one `Engine::history` page holds.
inline constexpr std::size_t max_history_page = 1000;

/// One page of the history (see `Engine::history`).
struct HistoryPage {
    std::vector<Firing> firings;  ///< newest first
    /// The next page: pass it as `HistoryQuery::before`; empty when this page is the last.
    std::string next;
};

/// What an operator, or a tracking server's page for one automation, shows of it (see
/// `Engine::automation_summary`). Value type.
struct AutomationSummary {
    std::string automation_id;
    /// Its newest firing, with its status and attempts now; nullopt when it never fired.
    std::optional<Firing> last_execution;
    Timestamp window_start{};  ///< the summary's time less the window asked for
    /// Its firings at or after `window_start`, by their status now: every status once, in the
    /// order of `FiringStatus`, with 0 when none has it.
    FiringCounts counts;
    /// The failing streak of the integration its action goes through (a webhook's or a Slack
    /// notification's, in the automation's entity) when the engine's dispatcher sees it failing
    /// now; nullopt when it is not, for launch jobs and no action, and for an engine without a
    /// dispatcher.
    std::optional<IntegrationStreak> integration_streak;
};

/// What `publish` did: the event's id (generated when the event had none) and the firings it
/// recorded. For an event published again under an id recorded before (`duplicate`), nothing
/// is recorded again, and `firings` are those its first publish recorded, as they stand now.
struct PublishReceipt {
    std::string event_id;
    std::vector<Firing> firings;
    bool duplicate = false;
};

class Engine {
  public:
    /// An engine that records firings (and queues their deliveries) without carrying them out.
    explicit Engine(EngineConfig config = {});
    /// An engine whose `Dispatcher` carries firings out on `executor` (see dispatcher.hpp):
    /// the host runs the executor's context. Destroying the engine aborts requests in flight
    /// (their deliveries stay in the outbox) and waits for the storage calls the dispatcher has
    /// under way to answer (a claim or a settlement, on the store's own thread); call
    /// `dispatcher().async_stop` first for a graceful stop. The executor's execution context
    /// must outlive the engine; once the destructor returns, nothing herald holds touches it.
    Engine(boost::asio::any_io_executor executor, EngineConfig config = {});
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    AutomationManager& automations() noexcept;
    SecretManager& secrets() noexcept;
    IntegrationManager& integrations() noexcept;
    /// Matches `event` and records its firings. Throws herald::Error (storage_failure) when the
    /// history cannot be written; then nothing of this event was recorded, save when the store
    /// cannot tell (a PostgreSQL connection lost during COMMIT says so): an event with a host id
    /// may then be published again, and is recorded once (`PublishReceipt::duplicate`).
    PublishReceipt publish(Event event);

    using PublishHandler =
        boost::asio::any_completion_handler<void(boost::system::error_code, PublishReceipt)>;
    /// Like `publish`, without blocking the calling thread while the firings are made durable:
    /// matches `event` before it returns, then completes with `void(error_code, PublishReceipt)`
    /// once every firing is recorded — durably on a persistent backend — or with
    /// `errc::storage_failure` (and an empty receipt) when they could not be; then none was. A
    /// thread with many publishes in flight shares commits among them, as many threads calling
    /// `publish` do. The handler runs on its associated executor, else the engine's executor
    /// (or `boost::asio::system_executor` for an engine built without one), never inline; that
    /// executor counts the publish as outstanding work until then. Not cancellable: once
    /// started, the firings are recorded whatever becomes of the handler. An event published
    /// before under its id completes with the first publish's receipt
    /// (`PublishReceipt::duplicate`), read after the store refused it, or with
    /// `boost::asio::error::operation_aborted` when the engine and its store are gone by then.
    template <class CompletionToken>
    auto async_publish(Event event, CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken,
                                           void(boost::system::error_code, PublishReceipt)>(
            [this](auto handler, Event e) {
                start_publish(std::move(e), PublishHandler{std::move(handler)});
            },
            token, std::move(event));
    }
    /// What publishing `event` now would do, and why each automation whose scope holds it would
    /// or would not fire (see dry_run.hpp); records nothing and sends nothing. Throws
    /// herald::Error: invalid_argument for an event `publish` refuses, storage_failure when
    /// the trigger state cannot be read.
    DryRunEvent dry_run(Event event) const;
    /// The events in order, each evaluated against what the ones before it would have left in
    /// the run windows and cooldowns. Every event is validated before any is evaluated: one
    /// that `publish` refuses throws herald::Error naming it ("events[2].step").
    std::vector<DryRunEvent> dry_run(std::vector<Event> events) const;
    const HistoryStore& history() const noexcept;
    /// The firings of `query.entity`'s events that `who` may read (`Permission::view_history`
    /// on the entity, or on `query.project` within it), filtered by the rest of `query`, newest
    /// first: one page of at most `query.limit` (1 to 1000), read from the store without
    /// loading more. Throws herald::Error: invalid_argument naming the field (no entity, a
    /// limit out of range, `before` naming no firing of the entity), permission_denied, or
    /// storage_failure.
    HistoryPage history(const Principal& who, HistoryQuery query) const;
    /// What `automation_id` did lately (see `AutomationSummary`), for whoever may read its
    /// history (`Permission::view_history` on its project, or on its entity for an entity
    /// scope): its last execution, its firings of the last `window` counted by status, and its
    /// integration's failing streak. Reads the store without loading more than one firing.
    /// Throws herald::Error: not_found (no such automation), permission_denied,
    /// invalid_argument (a `window` that is not positive, field "window"), storage_failure.
    AutomationSummary automation_summary(const Principal& who, std::string_view automation_id,
                                         std::chrono::seconds window = std::chrono::hours{
                                             24}) const;
    /// The figures of `EngineConfig::metrics` and the queue depth in the store now (reads the
    /// store: pending and dead deliveries, and how long the oldest claimable one has waited).
    /// Throws herald::Error (storage_failure) when it cannot be read.
    MetricsSnapshot metrics() const;
    /// The dispatcher; throws herald::Error (unsupported) when the engine has no executor.
    Dispatcher& dispatcher();
    /// Runs a pruning pass now, on the calling thread, with `EngineConfig::retention` (the
    /// default `RetentionPolicy` when unset); logs and counts what it took. Throws
    /// herald::Error (storage_failure) when the store fails; the batches before stay pruned.
    PruneResult prune();
    /// Reads the automations again when the store says another process changed them
    /// (`AutomationStore::revision`) and matches against what it holds from then on: a new
    /// automation is added, a changed one replaces its old self as an update through this
    /// engine would (cooldowns carry over, windows restart when the condition changed), a
    /// deleted one is forgotten with its run state. Publishing waits for the swap, not for
    /// the read. True when something changed; false at once for a store only this process
    /// writes. Logs `automations.refreshed` (info) when something changed. Throws herald::Error
    /// (storage_failure).
    bool refresh();

  private:
    void start_publish(Event event, PublishHandler handler);

    PruneResult prune(std::stop_token stop);

    std::unique_ptr<detail::EngineState> state_;
    boost::asio::any_io_executor executor_;  ///< what `async_publish` completes on
    AutomationManager automations_;
    std::unique_ptr<Dispatcher> dispatcher_;  ///< with an executor only
    SecretManager secrets_;
    IntegrationManager integrations_;
    std::unique_ptr<detail::Periodic> pruning_;     ///< these last: their threads use the rest
    std::unique_ptr<detail::Periodic> refreshing_;  ///< on a shared store
    /// What a shared store tells (`Storage::watch`): automations changed, deliveries enqueued.
    std::unique_ptr<StoreWatch> automations_watch_;
    std::unique_ptr<StoreWatch> deliveries_watch_;
};

}  // namespace herald
