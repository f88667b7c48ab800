// herald/storage.hpp — the storage interfaces a backend implements.
//
// A `Storage` groups the stores herald keeps its state in. herald ships `MemoryStorage`
// (memory_storage.hpp) for tests; persistent backends are separate targets. Every store must be
// thread-safe; herald serialises its own writes to the automation store but reads and appends
// from any thread.
#pragma once

#include <herald/automation.hpp>
#include <herald/firing.hpp>

#include <cstddef>
#include <optional>
#include <span>
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

/// The record of every firing.
class HistoryStore {
  public:
    virtual ~HistoryStore() = default;
    /// Records new firings; all or none. When it returns they are recorded for good.
    virtual void append(std::span<const Firing> firings) = 0;
    /// The most recent firings of an automation, newest first, at most `limit`.
    virtual std::vector<Firing> by_automation(std::string_view automation_id,
                                              std::size_t limit = 100) const = 0;
};

/// A storage backend: the stores herald keeps its state in. Thread-safe.
class Storage {
  public:
    virtual ~Storage() = default;
    virtual AutomationStore& automations() = 0;
    virtual HistoryStore& history() = 0;
};

}  // namespace herald
