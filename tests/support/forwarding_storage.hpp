// Memory storage behind a Storage a test can derive from, to change how firings are recorded
// (fail, hold, reorder) while every store works as MemoryStorage's.
#pragma once

#include <herald/memory_storage.hpp>
#include <herald/storage.hpp>

#include <span>

namespace herald::test {

/// Forwards every store, `record_publish` and `prune` to a MemoryStorage (`memory_`).
class ForwardingStorage : public Storage {
  public:
    AutomationStore& automations() override { return memory_.automations(); }
    HistoryStore& history() override { return memory_.history(); }
    IntegrationStore& integrations() override { return memory_.integrations(); }
    OutboxStore& outbox() override { return memory_.outbox(); }
    TriggerStateStore& trigger_state() override { return memory_.trigger_state(); }
    void record_publish(const PublishRecord& record) override { memory_.record_publish(record); }
    PruneResult prune(const PruneRequest& request) override { return memory_.prune(request); }

  protected:
    MemoryStorage memory_;
};

}  // namespace herald::test
