#include "dispatch/dispatcher_core.hpp"
#include "engine/engine_state.hpp"
#include "engine/periodic.hpp"
#include "match/match.hpp"
#include "model/validate.hpp"
#include "util/ids.hpp"
#include "util/lazy_now.hpp"

#include <herald/engine.hpp>
#include <herald/memory_storage.hpp>

#include <boost/asio/any_completion_executor.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/system_executor.hpp>

#include <exception>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <type_traits>
#include <variant>

namespace herald {
namespace detail {

const std::shared_ptr<const Automation>& find_automation(const EngineState& state,
                                                         std::string_view id) {
    auto it = state.by_id.find(std::string(id));
    if (it == state.by_id.end())
        throw Error(errc::not_found, "id", "no automation with id '" + std::string(id) + "'");
    return it->second;
}

bool may_link_into(const EngineState& state, std::string_view entity, std::string_view project) {
    return !state.is_registry || state.is_registry(entity, project);
}

std::string scope_key(const Scope& scope) {
    std::string key(to_string(scope.kind));
    key += '\0';
    key += scope.path();
    return key;
}

EngineState::EngineState(EngineConfig config)
    : storage(config.storage ? std::move(config.storage) : std::make_shared<MemoryStorage>()),
      clock(config.clock ? std::move(config.clock) : std::make_shared<SystemClock>()),
      authorizer(config.authorizer ? std::move(config.authorizer)
                                   : std::make_shared<DefaultAuthorizer>()),
      secrets(config.secrets ? std::move(config.secrets) : std::make_shared<MemorySecretStore>()),
      logger(std::move(config.logger)),
      metrics(config.metrics ? std::move(config.metrics) : std::make_shared<Metrics>()),
      is_registry(std::move(config.is_registry)),
      retention(config.retention),
      refresh_interval(config.refresh_interval),
      first_attempt_delay(config.dispatch.retry.schedule.empty()
                              ? std::chrono::nanoseconds{}
                              : std::chrono::nanoseconds{config.dispatch.retry.schedule.front()}),
      link_builder(config.dispatch.link_builder) {
    if (retention)
        validate(*retention);
    if (refresh_interval < std::chrono::milliseconds::zero())
        throw Error(errc::invalid_argument, "refresh_interval", "must not be negative");
    // Read before the automations, so that a change made meanwhile is read again.
    revision = storage->automations().revision();
    for (Automation& a : storage->automations().all())
        remember(std::make_shared<const Automation>(std::move(a)));
}

void EngineState::remember(std::shared_ptr<const Automation> automation) {
    by_scope_name.emplace(std::make_pair(scope_key(automation->scope), automation->name),
                          automation->id);
    if (automation->enabled)
        index.insert(automation);
    by_id.emplace(automation->id, std::move(automation));
}

void EngineState::forget(const Automation& automation) {
    by_scope_name.erase(std::make_pair(scope_key(automation.scope), automation.name));
    if (automation.enabled)
        index.erase(automation);
    by_id.erase(automation.id);
}

namespace {

/// The integration (or job queue) an action goes through; empty for no action.
std::string integration_of(const Action& action) {
    return std::visit(
        [](const auto& spec) -> std::string {
            using Spec = std::decay_t<decltype(spec)>;
            if constexpr (std::is_same_v<Spec, action::LaunchJob>)
                return spec.queue;
            else if constexpr (std::is_same_v<Spec, action::None>)
                return {};
            else
                return spec.integration;
        },
        action.spec());
}

}  // namespace

Firing make_firing(const Automation& automation, std::optional<MetricObservation> metric,
                   const Event& event, Timestamp now) {
    std::string reason = metric ? metric->metric_condition : describe_match(automation, event);
    return Firing{
        .id = detail::new_uuid(),
        .automation_id = automation.id,
        .automation_name = automation.name,
        .action = automation.action.kind(),
        .event = event,
        .time = now,
        .reason = std::move(reason),
        .metric = std::move(metric),
        // A no-op action is carried out by recording the firing.
        .status = automation.action.kind() == ActionKind::none ? FiringStatus::finished
                                                               : FiringStatus::pending,
        .integration = integration_of(automation.action),
    };
}

}  // namespace detail

namespace {

/// An automation that fires on the event being published.
struct Match {
    std::shared_ptr<const Automation> automation;
    std::optional<MetricObservation> metric;  ///< what a run metric trigger saw
};

/// The automations that fire on `event` at the publish `time`: the enabled ones whose scope,
/// trigger kind and filters match it, narrowed for run events by their windows and cooldowns.
/// Evaluating under the shared lock keeps an automation's update from interleaving with its
/// evaluation.
std::vector<Match> matches_of(detail::EngineState& state, const Event& event, detail::LazyNow& time,
                              std::vector<TriggerStateChange>& changes) {
    // Reused per thread: matching an event that fires nothing allocates nothing.
    thread_local std::vector<detail::TriggerEvaluator::Candidate> candidates;
    thread_local std::vector<detail::RunVerdict> verdicts;
    candidates.clear();
    verdicts.clear();
    std::vector<Match> matched;
    // Only links into a registry fire link triggers (when the host says which are registries).
    if ((event.kind() == EventKind::artifact_linked ||
         event.kind() == EventKind::artifact_unlinked) &&
        !detail::may_link_into(state, event.entity, event.project))
        return matched;
    std::shared_lock lock(state.mutex);
    state.index.for_each_candidate(event, [&](const auto& automation) {
        if (detail::filters_match(automation->trigger, event))
            candidates.push_back(&automation);
    });
    if (!event.run()) {
        for (auto candidate : candidates)
            matched.push_back({*candidate, std::nullopt});
        return matched;
    }
    // A metrics event that no automation watches needs neither the clock nor any run state.
    if (candidates.empty() && event.kind() == EventKind::run_metrics_logged)
        return matched;
    state.evaluator->evaluate(event, candidates, time, verdicts, changes);
    for (detail::RunVerdict& verdict : verdicts)
        matched.push_back({*verdict.automation, std::move(verdict.metric)});
    return matched;
}

/// What publishing an event produces before anything is recorded.
struct Publication {
    PublishReceipt receipt;
    std::vector<NewDelivery> deliveries;  ///< one per firing with an action
    std::vector<TriggerStateChange> trigger_state;
    bool host_id = false;  ///< the host gave the event its id: the record remembers it
    Timestamp time{};      ///< of the publish, when it records something

    bool records_nothing() const noexcept {
        return receipt.firings.empty() && trigger_state.empty();
    }
    PublishRecord record() const noexcept {
        return {.firings = receipt.firings,
                .deliveries = deliveries,
                .trigger_state = trigger_state,
                .event_id = host_id ? std::string_view(receipt.event_id) : std::string_view(),
                .time = time};
    }
};

/// Whether `error` is the refusal of a record under an event id recorded before.
bool published_before(const std::exception_ptr& error) {
    try {
        std::rethrow_exception(error);
    } catch (const Error& e) {
        return e.code() == errc::already_exists && e.field() == "event_id";
    } catch (...) {
        return false;
    }
}

/// The receipt of an event published again: what its first publish recorded.
PublishReceipt receipt_of_duplicate(Storage& storage, Metrics& metrics, std::string event_id) {
    metrics.duplicate_published();
    std::optional<std::vector<Firing>> firings = storage.history().event_firings(event_id);
    return {.event_id = std::move(event_id),
            .firings = firings ? std::move(*firings) : std::vector<Firing>{},
            .duplicate = true};
}

/// Matches `event` (giving it an id and a time when it has none) and makes its firings and
/// deliveries; the receipt takes the event's id.
Publication prepare(detail::EngineState& state, Event& event) {
    detail::validate(event);
    state.metrics->event_published(event.kind());
    Publication p;
    p.host_id = !event.id.empty();
    if (!p.host_id)
        event.id = detail::new_uuid();
    detail::LazyNow time(*state.clock);
    if (event.time == Timestamp{})
        event.time = time.get();

    const std::vector<Match> matched = matches_of(state, event, time, p.trigger_state);
    // An event that records nothing and came with its time does not read the clock.
    const Timestamp now = p.records_nothing() && matched.empty() ? Timestamp{} : time.get();
    p.time = now;
    p.receipt.firings.reserve(matched.size());
    for (const Match& match : matched) {
        const auto& automation = match.automation;
        p.receipt.firings.push_back(detail::make_firing(*automation, match.metric, event, now));
        if (p.receipt.firings.back().status == FiringStatus::pending)
            p.deliveries.push_back({.firing = p.receipt.firings.size() - 1,
                                    .action = automation->action,
                                    .trigger = automation->trigger.kind(),
                                    .due = now + state.first_attempt_delay});
    }
    p.receipt.event_id = std::move(event.id);  // the firings hold their own copies
    return p;
}

/// Throws herald::Error (permission_denied) unless `who` may read the history of `entity`'s
/// events, or of `project`'s within it when that is set.
void authorize_history(const detail::EngineState& state, const Principal& who,
                       const std::string& entity, const std::string& project) {
    const Scope scope =
        project.empty() ? Scope::for_entity(entity) : Scope::for_project(entity, project);
    if (!state.authorizer->allows(who, Permission::view_history, scope))
        throw Error(errc::permission_denied, "",
                    "'" + who.user + "' may not read the history of " + scope.path());
}

/// For a run event, the lock that orders its run's records (see `EngineState::run_order`);
/// none for other events.
std::unique_lock<std::mutex> run_order_lock(detail::EngineState& state, const Event& event) {
    const Run* run = event.run();
    if (!run)
        return {};
    return std::unique_lock(
        state.run_order[std::hash<std::string_view>{}(run->id) % state.run_order.size()]);
}

boost::system::error_code error_code_of(const std::exception_ptr& error) {
    try {
        std::rethrow_exception(error);
    } catch (const Error& e) {
        return make_error_code(e.code());
    } catch (...) {
        return make_error_code(errc::storage_failure);
    }
}

}  // namespace

Engine::Engine(EngineConfig config)
    : state_(std::make_unique<detail::EngineState>(std::move(config))),
      automations_(*state_),
      secrets_(*state_),
      integrations_(*state_) {
    if (state_->retention)
        pruning_ = std::make_unique<detail::Periodic>(
            [this](std::stop_token stop) {
                try {
                    prune(stop);
                } catch (...) {  // logged and counted; the next pass tries again
                }
            },
            state_->retention->interval);
    if (state_->revision && state_->refresh_interval > std::chrono::milliseconds::zero())
        refreshing_ = std::make_unique<detail::Periodic>(
            [this](std::stop_token) {
                try {
                    refresh();
                } catch (...) {  // logged and counted; the next look tries again
                }
            },
            state_->refresh_interval);
    if (refreshing_)
        automations_watch_ =
            state_->storage->watch(StoreChange::automations, [this] { refreshing_->run_now(); });
}

Engine::Engine(boost::asio::any_io_executor executor, EngineConfig config) : Engine(config) {
    executor_ = executor;
    auto resolver =
        config.resolver ? std::move(config.resolver) : std::make_shared<SystemResolver>(executor);
    auto core = std::make_shared<detail::DispatcherCore>(
        executor,
        detail::DispatcherServices{.storage = state_->storage,
                                   .clock = state_->clock,
                                   .authorizer = state_->authorizer,
                                   .secrets = state_->secrets,
                                   .job_queue = std::move(config.job_queue),
                                   .resolver = std::move(resolver),
                                   .logger = state_->logger,
                                   .metrics = state_->metrics},
        std::move(config.dispatch));
    dispatcher_.reset(new Dispatcher(core));
    core->start();
    deliveries_watch_ = state_->storage->watch(
        StoreChange::deliveries, [core = std::weak_ptr<detail::DispatcherCore>(core)] {
            if (const auto alive = core.lock())
                alive->wake();
        });
}

Engine::~Engine() {
    deliveries_watch_.reset();
    automations_watch_.reset();
    refreshing_.reset();
    pruning_.reset();
    if (dispatcher_)
        dispatcher_->core_->shutdown();
}

Dispatcher& Engine::dispatcher() {
    if (!dispatcher_)
        throw Error(errc::unsupported, "", "the engine was built without an executor");
    return *dispatcher_;
}

AutomationManager& Engine::automations() noexcept {
    return automations_;
}

SecretManager& Engine::secrets() noexcept {
    return secrets_;
}

IntegrationManager& Engine::integrations() noexcept {
    return integrations_;
}

const HistoryStore& Engine::history() const noexcept {
    return state_->storage->history();
}

HistoryPage Engine::history(const Principal& who, HistoryQuery query) const {
    if (query.entity.empty())
        throw Error(errc::invalid_argument, "entity", "is required: history is read per entity");
    if (query.limit == 0 || query.limit > max_history_page)
        throw Error(errc::invalid_argument, "limit",
                    "must be 1 to " + std::to_string(max_history_page));
    authorize_history(*state_, who, query.entity, query.project);
    const HistoryStore& store = state_->storage->history();
    if (!query.before.empty()) {
        const std::optional<Firing> from = store.find(query.before);
        if (!from || from->event.entity != query.entity)
            throw Error(errc::invalid_argument, "before",
                        "no firing '" + query.before + "' in entity '" + query.entity + "'");
    }
    HistoryPage page{.firings = store.query(query)};
    if (page.firings.size() == query.limit)
        page.next = page.firings.back().id;
    return page;
}

PruneResult Engine::prune() {
    return prune(std::stop_token{});
}

PruneResult Engine::prune(std::stop_token stop) {
    PruneRequest request =
        PruneRequest::at(state_->clock->now(), state_->retention.value_or(RetentionPolicy{}));
    request.stop = std::move(stop);
    const Logger& log = state_->logger;
    try {
        const PruneResult result = state_->storage->prune(request);
        state_->metrics->pruned(result);
        if (log.enabled(LogLevel::info) && (result.firings || result.dead_letters || result.bodies))
            log.log(LogLevel::info, "retention.pruned",
                    {{"firings", std::to_string(result.firings)},
                     {"dead_letters", std::to_string(result.dead_letters)},
                     {"bodies", std::to_string(result.bodies)},
                     {"batches", std::to_string(result.batches)}});
        return result;
    } catch (const std::exception& e) {
        state_->metrics->storage_failed();
        log.log(LogLevel::error, "retention.failed", {{"reason", e.what()}});
        throw;
    }
}

AutomationSummary Engine::automation_summary(const Principal& who, std::string_view automation_id,
                                             std::chrono::seconds window) const {
    if (window <= std::chrono::seconds::zero())
        throw Error(errc::invalid_argument, "window", "must be positive");
    std::shared_ptr<const Automation> automation;
    {
        std::shared_lock lock(state_->mutex);
        automation = detail::find_automation(*state_, automation_id);
    }
    // Its firings are of its scope's events: within its project, or anywhere in its entity.
    const Scope& scope = automation->scope;
    authorize_history(*state_, who, scope.entity, scope.project);
    const HistoryStore& store = state_->storage->history();
    const Timestamp window_start = state_->clock->now() - window;
    AutomationSummary summary{
        .automation_id = automation->id,
        .last_execution = store.last_execution(automation->id),
        .window_start = window_start,
        .counts = store.count_firings({.automation_id = automation->id, .from = window_start})};
    const ActionKind action = automation->action.kind();
    if (dispatcher_ && (action == ActionKind::webhook || action == ActionKind::slack))
        summary.integration_streak = dispatcher_->core_->integration_streak(
            scope.entity, detail::integration_of(automation->action));
    return summary;
}

bool Engine::refresh() {
    try {
        const std::optional<detail::AutomationChanges> changes =
            detail::refresh_automations(*state_);
        // A moved revision may be this engine's own write, which changes nothing here.
        if (!changes || changes->added + changes->changed + changes->removed == 0)
            return false;
        const Logger& log = state_->logger;
        if (log.enabled(LogLevel::info))
            log.log(LogLevel::info, "automations.refreshed",
                    {{"added", std::to_string(changes->added)},
                     {"changed", std::to_string(changes->changed)},
                     {"removed", std::to_string(changes->removed)}});
        return true;
    } catch (const std::exception& e) {
        state_->metrics->storage_failed();
        state_->logger.log(LogLevel::error, "automations.refresh_failed", {{"reason", e.what()}});
        throw;
    }
}

MetricsSnapshot Engine::metrics() const {
    MetricsSnapshot snapshot = state_->metrics->snapshot();
    const OutboxStore& outbox = state_->storage->outbox();
    MetricFamily depth{.name = "herald_outbox_deliveries",
                       .help =
                           "Deliveries in the outbox, by state: pending (due or not, claimed "
                           "ones included) and dead (retries exhausted).",
                       .type = MetricType::gauge};
    depth.samples.push_back(
        {.labels = {{"state", "pending"}}, .value = static_cast<double>(outbox.pending_count())});
    depth.samples.push_back(
        {.labels = {{"state", "dead"}}, .value = static_cast<double>(outbox.dead_count())});
    snapshot.families.push_back(std::move(depth));
    // Something claimable since `next_due` has waited that long: the dispatcher is behind.
    const std::optional<Timestamp> due = outbox.next_due();
    const Timestamp now = state_->clock->now();
    const double waited =
        due && *due < now ? std::chrono::duration<double>(now - *due).count() : 0.0;
    snapshot.families.push_back(MetricFamily{
        .name = "herald_outbox_oldest_due_age_seconds",
        .help = "How long the delivery that has been claimable longest has waited past its due "
                "time (a lease that ended counts from its end); 0 when none is claimable.",
        .type = MetricType::gauge,
        .samples = {{.value = waited}}});
    return snapshot;
}

PublishReceipt Engine::publish(Event event) {
    // Recorded through the asynchronous write and waited for here, so that the run's order
    // lock is held only until the record is queued, not while it commits. The error is moved
    // out of the promise: set_exception would leave a copy on the store's thread past the wake.
    // An event that records nothing (most of them) makes no promise.
    std::optional<std::promise<std::exception_ptr>> recorded;
    Publication p;
    {
        const std::unique_lock order = run_order_lock(*state_, event);
        p = prepare(*state_, event);
        if (!p.records_nothing())
            state_->storage->record_publish_async(
                p.record(), [&promise = recorded.emplace()](std::exception_ptr error) {
                    promise.set_value(std::move(error));
                });
    }
    if (recorded) {
        if (const std::exception_ptr error = recorded->get_future().get()) {
            state_->evaluator->forget_changes(event, p.trigger_state);
            if (!published_before(error))
                std::rethrow_exception(error);
            return receipt_of_duplicate(*state_->storage, *state_->metrics,
                                        std::move(p.receipt.event_id));
        }
    }
    if (!p.receipt.firings.empty())
        state_->metrics->firings_recorded(p.receipt.firings.size());
    if (dispatcher_ && !p.deliveries.empty())
        dispatcher_->wake();
    return std::move(p.receipt);
}

void Engine::start_publish(Event event, PublishHandler handler) {
    struct Pending {
        Event event;
        Publication publication;
        PublishHandler handler;
        boost::asio::any_io_executor executor;
        /// Keeps the handler's executor busy (io_context::run does not return) until then.
        boost::asio::any_completion_executor work;
        std::weak_ptr<detail::DispatcherCore> dispatcher;
        std::shared_ptr<Metrics> metrics;
        std::shared_ptr<detail::TriggerEvaluator> evaluator;
        /// For a duplicate's receipt, read on `executor`. Not owned: the store's thread runs
        /// `complete` and destroys it, and must never be left the store's last owner (its
        /// destructor joins that thread).
        std::weak_ptr<Storage> storage;
    };
    const boost::asio::any_io_executor executor =
        executor_ ? executor_ : boost::asio::any_io_executor(boost::asio::system_executor());
    auto work = boost::asio::prefer(boost::asio::get_associated_executor(handler, executor),
                                    boost::asio::execution::outstanding_work.tracked);
    auto pending =
        std::make_shared<Pending>(Pending{.event = std::move(event),
                                          .handler = std::move(handler),
                                          .executor = executor,
                                          .work = std::move(work),
                                          .dispatcher = dispatcher_ ? dispatcher_->core_ : nullptr,
                                          .metrics = state_->metrics,
                                          .evaluator = state_->evaluator,
                                          .storage = state_->storage});
    const auto complete = [pending](const std::exception_ptr& error) {
        boost::system::error_code ec;
        PublishReceipt receipt;
        if (error) {
            pending->evaluator->forget_changes(pending->event, pending->publication.trigger_state);
            if (published_before(error)) {
                // Its first publish's firings are read from the store, which must not be done
                // on the store's thread: on the handler's executor instead.
                boost::asio::post(pending->executor, [pending] {
                    boost::system::error_code read_error;
                    PublishReceipt first;
                    if (const std::shared_ptr<Storage> storage = pending->storage.lock()) {
                        try {
                            first = receipt_of_duplicate(
                                *storage, *pending->metrics,
                                std::move(pending->publication.receipt.event_id));
                        } catch (...) {
                            read_error = error_code_of(std::current_exception());
                        }
                    } else {
                        read_error = boost::asio::error::operation_aborted;  // the engine is gone
                    }
                    boost::asio::post(pending->executor,
                                      boost::asio::append(std::move(pending->handler), read_error,
                                                          std::move(first)));
                });
                return;
            }
            ec = error_code_of(error);
        } else {
            receipt = std::move(pending->publication.receipt);
            if (!receipt.firings.empty())
                pending->metrics->firings_recorded(receipt.firings.size());
            if (const auto dispatcher = pending->dispatcher.lock();
                dispatcher && !pending->publication.deliveries.empty())
                dispatcher->wake();
        }
        boost::asio::post(pending->executor,
                          boost::asio::append(std::move(pending->handler), ec, std::move(receipt)));
    };
    std::exception_ptr refused;
    {
        const std::unique_lock order = run_order_lock(*state_, pending->event);
        try {
            pending->publication = prepare(*state_, pending->event);
        } catch (...) {
            refused = std::current_exception();
        }
        if (!refused && !pending->publication.records_nothing()) {
            state_->storage->record_publish_async(pending->publication.record(), complete);
            return;
        }
    }
    complete(refused);
}

}  // namespace herald
