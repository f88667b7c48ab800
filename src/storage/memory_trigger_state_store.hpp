// The in-memory TriggerStateStore that MemoryStorage offers.
#pragma once

#include <herald/trigger_state_store.hpp>

#include <memory>

namespace herald::detail {

/// A thread-safe TriggerStateStore in memory.
std::unique_ptr<TriggerStateStore> make_memory_trigger_state_store();

}  // namespace herald::detail
