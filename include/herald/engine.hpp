// herald/engine.hpp — the façade a host links in.
//
//     herald::Engine engine{{.storage = std::make_shared<herald::MemoryStorage>()}};
//     engine.automations().create(admin, automation);
//     herald::PublishReceipt r = engine.publish(event);     // from any thread
//     for (const herald::Firing& f :
//     engine.history().by_automation(r.firings.front().automation_id)) ...
//
// `publish` finds the enabled automations whose scope and trigger match the event through an
// index keyed on event kind and scope (not a scan), records a `Firing` for each, and returns
// once they are recorded. Thread safety: every member function may be called from any thread.
#pragma once

#include <herald/authorizer.hpp>
#include <herald/automation_manager.hpp>
#include <herald/clock.hpp>
#include <herald/event.hpp>
#include <herald/firing.hpp>
#include <herald/integration_manager.hpp>
#include <herald/secret_manager.hpp>
#include <herald/secret_store.hpp>
#include <herald/storage.hpp>

#include <memory>
#include <string>
#include <vector>

namespace herald {

/// Plain configuration; every member has a default.
struct EngineConfig {
    std::shared_ptr<Storage> storage;              ///< default: a new MemoryStorage
    std::shared_ptr<const Clock> clock;            ///< default: SystemClock
    std::shared_ptr<const Authorizer> authorizer;  ///< default: DefaultAuthorizer
    std::shared_ptr<SecretStore> secrets;          ///< default: a new MemorySecretStore
};

/// What `publish` did: the event's id (generated when the event had none) and the firings it
/// recorded.
struct PublishReceipt {
    std::string event_id;
    std::vector<Firing> firings;
};

class Engine {
  public:
    explicit Engine(EngineConfig config = {});
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    AutomationManager& automations() noexcept;
    SecretManager& secrets() noexcept;
    IntegrationManager& integrations() noexcept;
    /// Matches `event` and records its firings. Throws herald::Error (storage_failure) when the
    /// history cannot be written; then nothing of this event was recorded.
    PublishReceipt publish(Event event);
    const HistoryStore& history() const noexcept;

  private:
    std::unique_ptr<detail::EngineState> state_;
    AutomationManager automations_;
    SecretManager secrets_;
    IntegrationManager integrations_;
};

}  // namespace herald
