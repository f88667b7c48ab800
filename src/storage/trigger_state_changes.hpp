// How a publish's run trigger state changes are applied, in the order `TriggerStateStore::apply`
// documents: values, population value, condition, firing. The SQLite and PostgreSQL backends
// apply them inside their own transaction; the default `apply` through the store's calls.
#pragma once

#include <herald/trigger_state_store.hpp>

#include <span>

namespace herald::detail {

/// Applies `changes` through `Table`'s static writes on `c` (an open transaction, or the store):
/// `append_values_in`, `put_population_value_in`, `save_condition_in`, `record_firing_in`.
template <class Table, class Target>
void apply_changes_in(Target& c, std::span<const TriggerStateChange> changes) {
    for (const TriggerStateChange& change : changes) {
        if (!change.values.empty())
            Table::append_values_in(c, change.key(), change.values, change.step, change.keep);
        if (change.population_value)
            Table::put_population_value_in(c, change.automation_id, change.run_id,
                                           *change.population_value, change.population_keep);
        if (change.condition)
            Table::save_condition_in(c, change.key(), *change.condition);
        if (change.fired)
            Table::record_firing_in(c, change.key(), *change.fired);
    }
}

}  // namespace herald::detail
