// Run trigger state: one trigger_runs row per (automation, run), its window's values in
// trigger_values, the automation's population in trigger_population.
#include "codec/storage_codec.hpp"
#include "postgres/stores.hpp"
#include "storage/trigger_state_changes.hpp"

#include <herald/error.hpp>

#include <algorithm>

namespace herald::detail::postgres {

using codec::nanos;
using codec::timestamp;

void TriggerStateTable::append_values_in(Connection& c, const TriggerStateKey& key,
                                         std::span<const double> values, std::int64_t step,
                                         std::size_t keep) {
    const auto count = static_cast<std::int64_t>(values.size());
    const Result run = c.exec(
        "INSERT INTO trigger_runs (automation_id, run_id, last_step, next_seq)"
        " VALUES ($1, $2, $3, $4) ON CONFLICT (automation_id, run_id) DO UPDATE SET"
        " last_step = excluded.last_step, next_seq = trigger_runs.next_seq + $4"
        " RETURNING next_seq",
        Params().text(key.automation_id).text(key.run_id).int64(step).int64(count));
    const std::int64_t next_seq = run.int64(0, 0);
    std::int64_t seq = next_seq - count;
    for (double v : values)
        c.exec(
            "INSERT INTO trigger_values (automation_id, run_id, seq, value)"
            " VALUES ($1, $2, $3, $4)",
            Params().text(key.automation_id).text(key.run_id).int64(seq++).real(v));
    c.exec("DELETE FROM trigger_values WHERE automation_id = $1 AND run_id = $2 AND seq < $3",
           Params()
               .text(key.automation_id)
               .text(key.run_id)
               .int64(next_seq - static_cast<std::int64_t>(keep)));
}

void TriggerStateTable::append_values(const TriggerStateKey& key, std::span<const double> values,
                                      std::int64_t step, std::size_t keep) {
    pool_.transact([&](Connection& c) { append_values_in(c, key, values, step, keep); });
}

void TriggerStateTable::record_firing_in(Connection& c, const TriggerStateKey& key,
                                         Timestamp time) {
    c.exec(
        "INSERT INTO trigger_runs (automation_id, run_id, last_fired) VALUES ($1, $2, $3)"
        " ON CONFLICT (automation_id, run_id) DO UPDATE SET last_fired = excluded.last_fired",
        Params().text(key.automation_id).text(key.run_id).int64(nanos(time)));
}

void TriggerStateTable::record_firing(const TriggerStateKey& key, Timestamp time) {
    pool_.run([&](Connection& c) { record_firing_in(c, key, time); });
}

void TriggerStateTable::save_condition_in(Connection& c, const TriggerStateKey& key,
                                          const ConditionProgress& progress) {
    Params p;
    p.text(key.automation_id)
        .text(key.run_id)
        .text(to_string(progress.state))
        .int64(static_cast<std::int64_t>(progress.streak))
        .optional_int64(progress.holding_since ? std::optional(nanos(*progress.holding_since))
                                               : std::nullopt)
        .boolean(progress.fired);
    c.exec(
        "INSERT INTO trigger_runs (automation_id, run_id, condition_state, condition_streak,"
        " condition_since, condition_fired) VALUES ($1, $2, $3, $4, $5, $6)"
        " ON CONFLICT (automation_id, run_id) DO UPDATE SET"
        " condition_state = excluded.condition_state,"
        " condition_streak = excluded.condition_streak,"
        " condition_since = excluded.condition_since,"
        " condition_fired = excluded.condition_fired",
        p);
}

void TriggerStateTable::save_condition(const TriggerStateKey& key,
                                       const ConditionProgress& progress) {
    pool_.run([&](Connection& c) { save_condition_in(c, key, progress); });
}

std::optional<RunTriggerState> TriggerStateTable::load(const TriggerStateKey& key) const {
    return pool_.transact([&](Connection& c) -> std::optional<RunTriggerState> {
        const Result run = c.exec(
            "SELECT last_step, last_fired, condition_state, condition_streak, condition_since,"
            " condition_fired FROM trigger_runs WHERE automation_id = $1 AND run_id = $2",
            Params().text(key.automation_id).text(key.run_id));
        if (run.rows() == 0)
            return std::nullopt;
        RunTriggerState state;
        if (!run.is_null(0, 0))
            state.last_step = run.int64(0, 0);
        if (!run.is_null(0, 1))
            state.last_fired = timestamp(run.int64(0, 1));
        const auto condition = condition_state_from_string(run.text(0, 2));
        if (!condition)
            throw Error(errc::storage_failure, "condition_state",
                        "unknown trigger condition state '" + std::string(run.text(0, 2)) + "'");
        state.condition = {.state = *condition,
                           .streak = static_cast<std::uint64_t>(run.int64(0, 3)),
                           .holding_since = std::nullopt,
                           .fired = run.boolean(0, 5)};
        if (!run.is_null(0, 4))
            state.condition.holding_since = timestamp(run.int64(0, 4));
        const Result values = c.exec(
            "SELECT value FROM trigger_values WHERE automation_id = $1 AND run_id = $2"
            " ORDER BY seq",
            Params().text(key.automation_id).text(key.run_id));
        for (int i = 0; i < values.rows(); ++i)
            state.values.push_back(values.real(i, 0));
        return state;
    });
}

void TriggerStateTable::erase_run(const TriggerStateKey& key) {
    pool_.transact([&](Connection& c) {
        for (const char* sql :
             {"DELETE FROM trigger_runs WHERE automation_id = $1 AND run_id = $2",
              "DELETE FROM trigger_values WHERE automation_id = $1 AND run_id = $2"})
            c.exec(sql, Params().text(key.automation_id).text(key.run_id));
    });
}

void TriggerStateTable::erase_automation(std::string_view automation_id) {
    pool_.transact([&](Connection& c) {
        for (const char* sql : {"DELETE FROM trigger_runs WHERE automation_id = $1",
                                "DELETE FROM trigger_values WHERE automation_id = $1",
                                "DELETE FROM trigger_population WHERE automation_id = $1"})
            c.exec(sql, Params().text(automation_id));
    });
}

void TriggerStateTable::put_population_value_in(Connection& c, std::string_view automation_id,
                                                std::string_view run_id, double value,
                                                std::size_t keep) {
    const std::int64_t next = c.exec(
                                   "SELECT coalesce(max(seq), 0) + 1 FROM trigger_population"
                                   " WHERE automation_id = $1",
                                   Params().text(automation_id))
                                  .int64(0, 0);
    const Result updated = c.exec(
        "INSERT INTO trigger_population (automation_id, run_id, seq, value)"
        " VALUES ($1, $2, $3, $4) ON CONFLICT (automation_id, run_id) DO UPDATE SET"
        " seq = excluded.seq, value = excluded.value RETURNING (xmax = 0) AS inserted",
        Params().text(automation_id).text(run_id).int64(next).real(value));
    if (!updated.boolean(0, 0))
        return;
    // A new run: the least recently updated beyond `keep` leave.
    c.exec(
        "DELETE FROM trigger_population WHERE automation_id = $1 AND seq < (SELECT seq"
        " FROM trigger_population WHERE automation_id = $1 ORDER BY seq DESC"
        " LIMIT 1 OFFSET $2)",
        Params()
            .text(automation_id)
            .int64(static_cast<std::int64_t>(std::max<std::size_t>(keep, 1)) - 1));
}

void TriggerStateTable::put_population_value(std::string_view automation_id,
                                             std::string_view run_id, double value,
                                             std::size_t keep) {
    pool_.transact(
        [&](Connection& c) { put_population_value_in(c, automation_id, run_id, value, keep); });
}

std::vector<PopulationValue> TriggerStateTable::load_population(
    std::string_view automation_id) const {
    const Result r = pool_.run([&](Connection& c) {
        return c.exec(
            "SELECT run_id, value FROM trigger_population WHERE automation_id = $1 ORDER BY seq",
            Params().text(automation_id));
    });
    std::vector<PopulationValue> out;
    for (int i = 0; i < r.rows(); ++i)
        out.push_back({std::string(r.text(i, 0)), r.real(i, 1)});
    return out;
}

void TriggerStateTable::restart_windows(std::string_view automation_id) {
    pool_.transact([&](Connection& c) {
        for (const char* sql :
             {"DELETE FROM trigger_values WHERE automation_id = $1",
              "DELETE FROM trigger_population WHERE automation_id = $1",
              "UPDATE trigger_runs SET condition_state = 'normal', condition_streak = 0,"
              " condition_since = NULL, condition_fired = false WHERE automation_id = $1"})
            c.exec(sql, Params().text(automation_id));
    });
}

void TriggerStateTable::apply_in(Connection& c, std::span<const TriggerStateChange> changes) {
    apply_changes_in<TriggerStateTable>(c, changes);
}

void TriggerStateTable::apply(std::span<const TriggerStateChange> changes) {
    pool_.transact([&](Connection& c) { apply_in(c, changes); });
}

}  // namespace herald::detail::postgres
