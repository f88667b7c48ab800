// The in-memory IntegrationStore that MemoryStorage offers.
#pragma once

#include <herald/integration_store.hpp>

#include <memory>

namespace herald::detail {

/// A thread-safe IntegrationStore in memory.
std::unique_ptr<IntegrationStore> make_memory_integration_store();

}  // namespace herald::detail
