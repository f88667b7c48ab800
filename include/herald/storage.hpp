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
#include <herald/trigger_state_store.hpp>

#include <cstddef>
#include <exception>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
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
};

/// Which firings `HistoryStore::query` returns: those matching every field that is set.
struct HistoryQuery {
    std::string automation_id;
    std::string entity;              ///< with `integration`: the entity the integration belongs to
    std::string integration;         ///< see `Firing::integration`
    std::optional<Timestamp> from;   ///< firing time >= from
    std::optional<Timestamp> until;  ///< firing time < until
    std::size_t limit = 100;
};

/// What the dispatcher learned about a firing: its new status, and the attempt that led to it.
struct FiringUpdate {
    std::string firing_id;
    FiringStatus status = FiringStatus::pending;
    std::optional<DeliveryAttempt> attempt;  ///< appended to `Firing::attempts` when set
    std::string payload;                     ///< replaces `Firing::payload` when not empty
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
    /// The matching firings, newest first, at most `query.limit`.
    virtual std::vector<Firing> query(const HistoryQuery& query) const = 0;

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

    /// Records firings in the history and enqueues their deliveries, all or none; what
    /// `Engine::publish` calls. This default writes the history first, then the outbox; a
    /// persistent backend overrides it to write both in one transaction.
    virtual void record_firings(std::span<const Firing> firings,
                                std::span<const NewDelivery> deliveries) {
        history().append(firings);
        if (deliveries.empty())
            return;
        std::vector<Delivery> queued;
        queued.reserve(deliveries.size());
        for (const NewDelivery& d : deliveries)
            queued.push_back({.firing = firings[d.firing],
                              .action = d.action,
                              .trigger = d.trigger,
                              .due = d.due});
        outbox().enqueue(queued);
    }
    /// Records like `record_firings`, without making the caller wait for it: calls
    /// `done(error)` exactly once, from any thread, when they are recorded (`error` null) or
    /// could not be (then none is). `firings` and `deliveries` stay valid until then; `done`
    /// must not block. What `Engine::async_publish` calls. This default records them on the
    /// calling thread before it returns; a backend that commits in the background overrides it.
    virtual void record_firings_async(std::span<const Firing> firings,
                                      std::span<const NewDelivery> deliveries,
                                      std::function<void(std::exception_ptr)> done) {
        std::exception_ptr error;
        try {
            record_firings(firings, deliveries);
        } catch (...) {
            error = std::current_exception();
        }
        done(error);
    }
};

}  // namespace herald
