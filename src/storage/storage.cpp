// The defaults of herald::Storage that are not inline.
#include "storage/firing_counts.hpp"
#include "storage/firing_update.hpp"
#include "storage/new_deliveries.hpp"

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
    if (!record.firings.empty())
        history().append(record.firings);
    if (!queued.empty())
        outbox().enqueue(queued);
    if (!record.trigger_state.empty())
        trigger_state().apply(record.trigger_state);
}

void TriggerStateStore::apply(std::span<const TriggerStateChange> changes) {
    for (const TriggerStateChange& change : changes) {
        if (!change.values.empty())
            append_values(change.key(), change.values, change.step, change.keep);
        if (change.population_value)
            put_population_value(change.automation_id, change.run_id, *change.population_value,
                                 change.population_keep);
        if (change.condition)
            save_condition(change.key(), *change.condition);
        if (change.fired)
            record_firing(change.key(), *change.fired);
    }
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
