// The defaults of herald::Storage that are not inline.
#include "storage/firing_counts.hpp"
#include "storage/firing_update.hpp"
#include "storage/new_deliveries.hpp"
#include "storage/published_events.hpp"
#include "storage/trigger_state_changes.hpp"

#include <herald/storage.hpp>

#include <vector>

namespace herald {

FiringCounts HistoryStore::count_firings(const HistoryQuery& query) const {
    // A page at a time, each continuing before the last firing of the one before: counting a
    // large history holds one page of it in memory, not all of it.
    constexpr std::size_t page = 1000;
    FiringCounts counts = detail::no_firings();
    HistoryQuery next = query;
    next.limit = page;
    for (;;) {
        const std::vector<Firing> firings = this->query(next);
        for (const Firing& f : firings)
            ++detail::count_of(counts, f.status);
        if (firings.size() < page)
            return counts;
        next.before = firings.back().id;
    }
}

void Storage::record_publish(const PublishRecord& record) {
    const std::vector<Delivery> queued = detail::deliveries_of(record.firings, record.deliveries);
    if (!record.event_id.empty() && history().event_firings(record.event_id))
        throw detail::already_published(record.event_id);
    if (!record.firings.empty())
        history().append(record.firings);
    if (!queued.empty())
        outbox().enqueue(queued);
    if (!record.trigger_state.empty())
        trigger_state().apply(record.trigger_state);
    if (!record.event_id.empty())
        history().remember_event(record.event_id, record.time, record.firings);
}

namespace {

/// The calls `TriggerStateStore::apply` makes by default, in the shape
/// `detail::apply_changes_in` takes: each write a call of the store's own.
struct StoreCalls {
    static void append_values_in(TriggerStateStore& store, const TriggerStateKey& key,
                                 std::span<const double> values, std::int64_t step,
                                 std::size_t keep) {
        store.append_values(key, values, step, keep);
    }
    static void put_population_value_in(TriggerStateStore& store, std::string_view automation_id,
                                        std::string_view run_id, double value, std::size_t keep) {
        store.put_population_value(automation_id, run_id, value, keep);
    }
    static void save_condition_in(TriggerStateStore& store, const TriggerStateKey& key,
                                  const ConditionProgress& progress) {
        store.save_condition(key, progress);
    }
    static void record_firing_in(TriggerStateStore& store, const TriggerStateKey& key,
                                 Timestamp time) {
        store.record_firing(key, time);
    }
};

}  // namespace

void TriggerStateStore::apply(std::span<const TriggerStateChange> changes) {
    detail::apply_changes_in<StoreCalls>(*this, changes);
}

SettleResult Storage::settle(const SettleBatch& batch) {
    SettleResult result;
    if (!batch.outbox.empty())
        result.lost = outbox().settle(batch.outbox);
    detail::apply_kept(batch.history, result.lost, [&](std::span<const FiringUpdate> kept) {
        if (!kept.empty())
            history().update(kept);
    });
    if (!batch.streaks.empty())
        result.failing = integrations().update_streaks(batch.streaks);
    return result;
}

}  // namespace herald
