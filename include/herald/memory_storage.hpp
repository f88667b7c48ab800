// herald/memory_storage.hpp — storage that lives in memory, for tests and experiments.
//
// clang-format off
//     auto storage = std::make_shared<herald::MemoryStorage>();
//     herald::Engine engine{{.storage = storage}};
// clang-format on
//
// Nothing survives the process. Thread-safe.
#pragma once

#include <herald/storage.hpp>

#include <memory>

namespace herald {

class MemoryStorage final : public Storage {
  public:
    MemoryStorage();
    ~MemoryStorage() override;

    AutomationStore& automations() override;
    HistoryStore& history() override;
    IntegrationStore& integrations() override;
    OutboxStore& outbox() override;
    TriggerStateStore& trigger_state() override;
    void record_publish(const PublishRecord& record) override;
    PruneResult prune(const PruneRequest& request) override;

  private:
    struct Stores;
    std::unique_ptr<Stores> stores_;
};

}  // namespace herald
