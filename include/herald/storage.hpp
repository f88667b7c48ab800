// herald/storage.hpp — the storage interfaces a backend implements.
//
// A `Storage` groups the stores herald keeps its state in. herald ships `MemoryStorage`
// (memory_storage.hpp) for tests; persistent backends are separate targets. Every store must be
// thread-safe; herald serialises its own writes to the automation store but reads and appends
// from any thread.
#pragma once

#include <herald/automation.hpp>
#include <herald/firing.hpp>
#include <herald/integration_store.hpp>
#include <herald/outbox_store.hpp>
#include <herald/retention.hpp>
#include <herald/trigger_state_store.hpp>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace herald {

/// Automations by id. Name uniqueness within a scope is checked by herald before it writes.
class AutomationStore {
  public:
    virtual ~AutomationStore() = default;
    virtual void insert(const Automation& automation) = 0;
    /// Replaces the automation with the same id.
    virtual void update(const Automation& automation) = 0;
    /// False when there was none with that id.
    virtual bool erase(std::string_view id) = 0;
    virtual std::optional<Automation> find(std::string_view id) const = 0;
    virtual std::vector<Automation> all() const = 0;
    /// For a store that several processes write (a database engines share): a number that
    /// changes whenever any of them changes an automation, read from the store. An engine on
    /// such a store looks at it every `EngineConfig::refresh_interval` and reads the
    /// automations again when it changed (`Engine::refresh`). nullopt, the default: only this
    /// process writes the store, so what an engine holds in memory is never stale.
    virtual std::optional<std::int64_t> revision() const { return std::nullopt; }
};

/// Which firings `HistoryStore::query` returns: those matching every field that is set.
struct HistoryQuery {
    std::string automation_id;
    std::string entity;       ///< the firings of this entity's events (an integration's entity too)
    std::string project;      ///< the firings of this project's events
    std::string integration;  ///< see `Firing::integration`
    std::optional<FiringStatus> status;  ///< firings with this status now
    std::optional<Timestamp> from;       ///< firing time >= from
    std::optional<Timestamp> until;      ///< firing time < until
    /// A firing's id: only the firings recorded before it, so that the last id of one page
    /// asks for the next; empty: from the newest. No firing: an empty result.
    std::string before;
    std::size_t limit = 100;
};

/// What the dispatcher learned about a firing: its new status, and the attempt that led to it.
struct FiringUpdate {
    std::string firing_id;
    FiringStatus status = FiringStatus::pending;
    std::optional<DeliveryAttempt> attempt;  ///< appended to `Firing::attempts` when set
    std::string payload;                     ///< replaces `Firing::payload` when not empty
};

/// How many firings a history holds with each status: every status once, in the order of
/// `FiringStatus`, with 0 when no firing has it. What `HistoryStore::count_firings` returns.
using FiringCounts = std::vector<std::pair<FiringStatus, std::size_t>>;

/// The action a firing's delivery was recorded with, and its automation's trigger kind then:
/// what a replay carries out again, whatever became of the automation since. Value type.
struct RecordedAction {
    Action action;
    TriggerKind trigger = TriggerKind::create_artifact;
    friend bool operator==(const RecordedAction&, const RecordedAction&) = default;
};

/// The record of every firing.
class HistoryStore {
  public:
    virtual ~HistoryStore() = default;
    /// Records new firings; all or none. When it returns they are recorded for good.
    virtual void append(std::span<const Firing> firings) = 0;
    /// Applies updates in order; an update for an unknown firing is ignored.
    virtual void update(std::span<const FiringUpdate> updates) = 0;
    virtual std::optional<Firing> find(std::string_view firing_id) const = 0;
    /// The action of the firing's delivery: as recorded with the firing
    /// (`Storage::record_publish`), kept as long as the firing, or else as the outbox holds it
    /// (`OutboxStore::enqueue`), at least while it is there. nullopt when the history has no
    /// such firing, or neither has its delivery.
    virtual std::optional<RecordedAction> recorded_action(std::string_view firing_id) const = 0;
    /// The matching firings, newest first, at most `query.limit`.
    virtual std::vector<Firing> query(const HistoryQuery& query) const = 0;
    /// Remembers that the event `event_id` was published at `time` and recorded `firings`
    /// (none, for an event that moved only run trigger state). Throws herald::Error
    /// (already_exists, field "event_id"), remembering nothing, when the id is remembered
    /// already. Called by `Storage::record_publish` (see `PublishRecord::event_id`).
    virtual void remember_event(std::string_view event_id, Timestamp time,
                                std::span<const Firing> firings) = 0;
    /// The firings the publish of event `event_id` recorded, in their order (those pruned
    /// since left out); nullopt when no publish of that id is remembered.
    virtual std::optional<std::vector<Firing>> event_firings(std::string_view event_id) const = 0;
    /// How many of the firings `query` matches (every set field, `before` included; `limit`
    /// aside) have each status. The default pages through `query`; backends count instead,
    /// without loading a firing.
    virtual FiringCounts count_firings(const HistoryQuery& query) const;
    /// How many firings the whole history holds with each status (what `herald stats` shows).
    FiringCounts count_firings() const { return count_firings(HistoryQuery{}); }

    /// The most recent firings of an automation, newest first, at most `limit`.
    std::vector<Firing> by_automation(std::string_view automation_id,
                                      std::size_t limit = 100) const {
        HistoryQuery q;
        q.automation_id = automation_id;
        q.limit = limit;
        return query(q);
    }
    /// The automation's last execution: its most recent firing.
    std::optional<Firing> last_execution(std::string_view automation_id) const {
        auto newest = by_automation(automation_id, 1);
        return newest.empty() ? std::nullopt : std::optional<Firing>(std::move(newest.front()));
    }
};

/// What `Storage::claim_async` took: the deliveries leased, and the earliest time something
/// more may become claimable after them (`OutboxStore::next_due`), read in the same step.
struct ClaimResult {
    std::vector<Delivery> deliveries;
    std::optional<Timestamp> next_due;
};

/// What the dispatcher writes in one settlement (`Storage::settle`).
struct SettleBatch {
    std::span<const FiringUpdate> history;
    std::span<const OutboxUpdate> outbox;  ///< settlements and lease renewals
    std::span<const StreakUpdate> streaks;
};

/// What a settlement came to.
struct SettleResult {
    /// The deliveries whose outbox update was dropped: their lease no longer holds.
    std::vector<std::string> lost;
    /// The streaks of the integrations the batch left failing, as stored now
    /// (`IntegrationStore::update_streaks`).
    std::vector<FailingStreak> failing;
};

/// What a store shared by several processes tells the engines that watch it (`Storage::watch`).
enum class StoreChange {
    deliveries,   ///< deliveries were enqueued: one may be due now
    automations,  ///< an automation was created, changed or deleted
};

/// What one publish records (`Storage::record_publish`). The spans and the id stay valid for
/// the call.
struct PublishRecord {
    std::span<const Firing> firings;
    std::span<const NewDelivery> deliveries;  ///< each of one of `firings`
    std::span<const TriggerStateChange> trigger_state;
    /// The id the host gave the event, remembered with the record
    /// (`HistoryStore::remember_event`) so that the same event is never recorded twice: a
    /// record under an id remembered already is refused (already_exists, field "event_id") and
    /// writes nothing. Empty: nothing is remembered (an id herald generated is never retried).
    std::string_view event_id;
    Timestamp time{};  ///< when it was published: what pruning forgets remembered ids by
};

/// A watch on a store (`Storage::watch`): its listener is not called once this is destroyed.
class StoreWatch {
  public:
    virtual ~StoreWatch() = default;
};

/// A storage backend: the stores herald keeps its state in. Thread-safe.
class Storage {
  public:
    virtual ~Storage() = default;
    virtual AutomationStore& automations() = 0;
    virtual HistoryStore& history() = 0;
    virtual IntegrationStore& integrations() = 0;
    virtual OutboxStore& outbox() = 0;
    /// Windows and cooldowns of run triggers.
    virtual TriggerStateStore& trigger_state() = 0;

    /// Records what one publish produced, all or none: its firings in the history, their
    /// deliveries in the outbox, and what it changed in run trigger state
    /// (`TriggerStateStore::apply`), and the event's id when it has one
    /// (`PublishRecord::event_id`); what `Engine::publish` calls. This default refuses an id
    /// remembered already, then writes the history, the outbox, the trigger state and last the
    /// id; a persistent backend overrides it to write them in one transaction, which also
    /// makes two concurrent records of one id write one. Throws herald::Error:
    /// invalid_argument (field "deliveries"), before writing anything, for a delivery whose
    /// `NewDelivery::firing` names none of the firings, or a second delivery for one firing;
    /// already_exists (field "event_id") for an id remembered already.
    virtual void record_publish(const PublishRecord& record);
    /// Records like `record_publish`, without making the caller wait for it: calls
    /// `done(error)` exactly once, from any thread, when it is recorded (`error` null) or could
    /// not be (then none of it is). The record's spans and id stay valid until then; `done` must
    /// not block. What `Engine::async_publish` calls, and `Engine::publish`, which waits. Records
    /// are applied in the order of the calls. This default records on the calling thread
    /// before it returns; a backend that commits in the background overrides it.
    virtual void record_publish_async(const PublishRecord& record,
                                      std::function<void(std::exception_ptr)> done) {
        done(failure_of([&] { record_publish(record); }));
    }
    /// `record_publish` of firings and their deliveries alone.
    void record_firings(std::span<const Firing> firings, std::span<const NewDelivery> deliveries) {
        record_publish({.firings = firings, .deliveries = deliveries});
    }

    /// Settles what the dispatcher learned about claimed deliveries: applies the outbox's
    /// updates (`OutboxStore::settle`), the history's and the integrations' streaks
    /// (`IntegrationStore::update_streaks`), all or none. A delivery whose outbox update was
    /// dropped because its lease no longer holds keeps its history as it is: the claimer that
    /// holds it now records what becomes of it. This default settles the outbox first, then
    /// the history of the others, then the streaks; a persistent backend overrides it to write
    /// them in one transaction.
    virtual SettleResult settle(const SettleBatch& batch);
    /// Settles like `settle`, without making the caller wait: calls `done(error, result)`
    /// exactly once, from any thread, when the settlement is recorded (`error` null, `result`
    /// what `settle` returns) or could not be (then none of it is). The batch's spans stay
    /// valid until then; `done` must not block. What the dispatcher calls, with every
    /// settlement and lease renewal that arrived while the previous ones were being written,
    /// so a backend that commits in the background writes them in one transaction. This
    /// default settles on the calling thread before it returns.
    virtual void settle_async(const SettleBatch& batch,
                              std::function<void(std::exception_ptr, SettleResult)> done) {
        SettleResult result;
        const std::exception_ptr error = failure_of([&] { result = settle(batch); });
        done(error, std::move(result));
    }
    /// Claims like `OutboxStore::claim` and reads `next_due` after it, without making the
    /// caller wait: calls `done(error, result)` exactly once, from any thread (`result` empty
    /// when `error` is set; nothing was claimed then). `done` must not block, and must be
    /// called without waiting for the engine's executor: the engine's destructor waits for it,
    /// as it does for `settle_async`'s. What the dispatcher's claim loop calls. This default
    /// claims on the calling thread before it returns; a backend whose claims are durable
    /// writes overrides it.
    virtual void claim_async(Timestamp now, std::size_t limit, Timestamp lease_until,
                             std::function<void(std::exception_ptr, ClaimResult)> done) {
        ClaimResult result;
        const std::exception_ptr error = failure_of([&] {
            result.deliveries = outbox().claim(now, limit, lease_until);
            result.next_due = outbox().next_due();
        });
        done(error, error ? ClaimResult{} : std::move(result));
    }

    /// For a store that several processes write: calls `listener` (from a thread of the
    /// backend's, never twice at once) soon after any of them committed a change of the kind
    /// `what`, until the watch returned is destroyed (which waits for a call under way). An
    /// engine wakes its dispatcher, or reads its automations, then rather than at its next
    /// poll. A hint, never a guarantee: a change may be told late, twice or, across a lost
    /// connection, not at all, so engines keep polling. This default tells nothing and
    /// returns null.
    virtual std::unique_ptr<StoreWatch> watch(StoreChange /*what*/,
                                              std::function<void()> /*listener*/) {
        return nullptr;
    }

    /// Runs one pruning pass (see retention.hpp), batch by batch, each batch its own
    /// transaction, until nothing more is due to go or `request.stop` is requested. Firings are
    /// looked at in the order they were recorded, oldest first; the pass ends at the first one
    /// no rule can take yet, so a firing recorded after it with an older time waits for a later
    /// pass. A settled firing (finished, failed, skipped) goes when its time is before
    /// `settled_before` or it is older than the newest `keep`; a dead letter goes with its
    /// firing when the firing's time is before `dead_before`. Never taken: a pending firing, a
    /// firing whose delivery waits in the outbox (due, retrying, claimed, replayed), and the
    /// newest firing. With `bodies_before`, the payload and the recorded response bodies of
    /// the firings before it are expunged, and the store remembers how far it got. Throws
    /// herald::Error (storage_failure); the batches written before stay written.
    virtual PruneResult prune(const PruneRequest& request) = 0;

  protected:
    /// Runs `f`; what it threw, or null.
    template <class F>
    static std::exception_ptr failure_of(F&& f) noexcept {
        try {
            f();
            return nullptr;
        } catch (...) {
            return std::current_exception();
        }
    }
};

}  // namespace herald
