// The PostgreSQL stores, each over the pool, and the pieces of their writes that
// `Database::record_publish` and `Database::settle` run inside one transaction.
#pragma once

#include "postgres/connection.hpp"
#include "postgres/listener.hpp"
#include "postgres/write_queue.hpp"

#include <herald/error.hpp>
#include <herald/postgres/database.hpp>
#include <herald/storage.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace herald::detail::postgres {

class AutomationTable final : public AutomationStore {
  public:
    explicit AutomationTable(Pool& pool) : pool_(pool) {}
    void insert(const Automation& automation) override;
    void update(const Automation& automation) override;
    bool erase(std::string_view id) override;
    std::optional<Automation> find(std::string_view id) const override;
    std::vector<Automation> all() const override;
    /// The `automations_revision` row, which a trigger moves on every write of the table.
    std::optional<std::int64_t> revision() const override;

  private:
    Pool& pool_;
};

class IntegrationTable final : public IntegrationStore {
  public:
    explicit IntegrationTable(Pool& pool) : pool_(pool) {}
    void insert(const Integration& integration) override;
    void update(const Integration& integration) override;
    bool erase(std::string_view entity, std::string_view name) override;
    std::optional<Integration> find(std::string_view entity, std::string_view name) const override;
    std::vector<Integration> list(std::string_view entity) const override;
    std::vector<FailingStreak> update_streaks(std::span<const StreakUpdate> updates) override;
    std::optional<Timestamp> failing_since(std::string_view entity,
                                           std::string_view name) const override;

    /// Inside a transaction: what `update_streaks` does, each integration's row locked in
    /// (entity, name) order.
    static std::vector<FailingStreak> update_streaks_in(Connection& c,
                                                        std::span<const StreakUpdate> updates);

  private:
    Pool& pool_;
};

class HistoryTable final : public HistoryStore {
  public:
    explicit HistoryTable(Pool& pool) : pool_(pool) {}

    /// Inside a transaction: applies `updates` in order, each firing's row locked (in id order).
    static void update_in(Connection& c, std::span<const FiringUpdate> updates);
    /// Inside a transaction: forgets up to `limit` event ids published before `before`, oldest
    /// first; how many it forgot.
    static std::size_t forget_events_in(Connection& c, Timestamp before, std::size_t limit);

    void append(std::span<const Firing> firings) override;
    void update(std::span<const FiringUpdate> updates) override;
    std::optional<Firing> find(std::string_view firing_id) const override;
    std::optional<RecordedAction> recorded_action(std::string_view firing_id) const override;
    std::vector<Firing> query(const HistoryQuery& query) const override;
    FiringCounts count_firings(const HistoryQuery& query) const override;
    void remember_event(std::string_view event_id, Timestamp time,
                        std::span<const Firing> firings) override;
    std::optional<std::vector<Firing>> event_firings(std::string_view event_id) const override;

  private:
    Pool& pool_;
};

/// Deliveries by due time in the `outbox` table, each row keyed by its firing's id. A claimed
/// delivery's `ready_at` is its lease end; a dead letter has a `dead_seq`.
class OutboxTable final : public OutboxStore {
  public:
    explicit OutboxTable(Pool& pool) : pool_(pool) {}

    /// Inside a transaction: leases up to `limit` due deliveries, earliest first, skipping
    /// rows another transaction holds.
    static std::vector<Delivery> claim_in(Connection& c, Timestamp now, std::size_t limit,
                                          Timestamp lease_until);
    /// Inside a transaction: what `settle` does.
    static std::vector<std::string> settle_in(Connection& c, std::span<const OutboxUpdate> updates);
    static std::optional<Timestamp> next_due_in(Connection& c);

    void enqueue(std::span<const Delivery> deliveries) override;
    std::vector<Delivery> claim(Timestamp now, std::size_t limit, Timestamp lease_until) override;
    std::vector<std::string> settle(std::span<const OutboxUpdate> updates) override;
    bool replay(std::string_view delivery_id, Timestamp due) override;
    std::optional<Timestamp> next_due() const override;
    std::vector<Delivery> dead_letters(std::size_t limit) const override;
    std::size_t pending_count() const override;
    std::size_t dead_count() const override;

  private:
    Pool& pool_;
};

class TriggerStateTable final : public TriggerStateStore {
  public:
    explicit TriggerStateTable(Pool& pool) : pool_(pool) {}
    /// Inside a transaction: what `apply` does.
    static void apply_in(Connection& c, std::span<const TriggerStateChange> changes);
    void apply(std::span<const TriggerStateChange> changes) override;
    void append_values(const TriggerStateKey& key, std::span<const double> values,
                       std::int64_t step, std::size_t keep) override;
    void record_firing(const TriggerStateKey& key, Timestamp time) override;
    void save_condition(const TriggerStateKey& key, const ConditionProgress& progress) override;
    std::optional<RunTriggerState> load(const TriggerStateKey& key) const override;
    void erase_run(const TriggerStateKey& key) override;
    void erase_automation(std::string_view automation_id) override;
    void put_population_value(std::string_view automation_id, std::string_view run_id, double value,
                              std::size_t keep) override;
    std::vector<PopulationValue> load_population(std::string_view automation_id) const override;
    void restart_windows(std::string_view automation_id) override;

    // Inside a transaction: the writes `apply_in` makes.
    static void append_values_in(Connection& c, const TriggerStateKey& key,
                                 std::span<const double> values, std::int64_t step,
                                 std::size_t keep);
    static void record_firing_in(Connection& c, const TriggerStateKey& key, Timestamp time);
    static void save_condition_in(Connection& c, const TriggerStateKey& key,
                                  const ConditionProgress& progress);
    static void put_population_value_in(Connection& c, std::string_view automation_id,
                                        std::string_view run_id, double value, std::size_t keep);

  private:
    Pool& pool_;
};

/// Runs `decode` on a document read from the database, naming the table when it is malformed.
template <class Decode>
auto decoded(std::string_view table, Decode&& decode) {
    try {
        return decode();
    } catch (const Error& e) {
        throw Error(errc::storage_failure, "",
                    "PostgreSQL: a row of " + std::string(table) + " is malformed: " + e.reason());
    }
}

}  // namespace herald::detail::postgres

namespace herald::postgres {

struct Database::State {
    State(const std::string& conninfo, const Options& options);
    /// Runs what was queued while every member is alive.
    ~State() { pool.stop(); }

    std::string schema;
    detail::postgres::Pool pool;
    detail::postgres::WriteQueue writes;  ///< the asynchronous writes, group-committed
    detail::postgres::AutomationTable automations{pool};
    detail::postgres::HistoryTable history{pool};
    detail::postgres::IntegrationTable integrations{pool};
    detail::postgres::OutboxTable outbox{pool};
    detail::postgres::TriggerStateTable trigger_state{pool};
    std::shared_ptr<detail::postgres::Listener> listener;  ///< LISTEN, for `watch`
};

}  // namespace herald::postgres
