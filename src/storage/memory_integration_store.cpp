#include "storage/memory_integration_store.hpp"

#include "storage/streak_changes.hpp"

#include <herald/error.hpp>

#include <map>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <utility>

namespace herald::detail {
namespace {

class MemoryIntegrationStore final : public IntegrationStore {
  public:
    void insert(const Integration& integration) override {
        std::unique_lock lock(mutex_);
        if (!integrations_.emplace(key(integration.entity(), integration.name()), integration)
                 .second)
            throw Error(errc::already_exists, "integration.name",
                        "entity '" + integration.entity() + "' already has an integration named '" +
                            integration.name() + "'");
    }
    void update(const Integration& integration) override {
        std::unique_lock lock(mutex_);
        auto it = integrations_.find(key(integration.entity(), integration.name()));
        if (it == integrations_.end())
            throw Error(errc::not_found, "integration.name",
                        "entity '" + integration.entity() + "' has no integration named '" +
                            integration.name() + "'");
        it->second = integration;
    }
    bool erase(std::string_view entity, std::string_view name) override {
        std::unique_lock lock(mutex_);
        streaks_.erase(key(entity, name));
        return integrations_.erase(key(entity, name)) != 0;
    }
    std::optional<Integration> find(std::string_view entity, std::string_view name) const override {
        std::shared_lock lock(mutex_);
        auto it = integrations_.find(key(entity, name));
        if (it == integrations_.end())
            return std::nullopt;
        return it->second;
    }
    std::vector<Integration> list(std::string_view entity) const override {
        std::shared_lock lock(mutex_);
        std::vector<Integration> out;
        for (auto it = integrations_.lower_bound(key(entity, {}));
             it != integrations_.end() && it->first.first == entity; ++it)
            out.push_back(it->second);
        return out;
    }

    std::vector<FailingStreak> update_streaks(std::span<const StreakUpdate> updates) override {
        std::unique_lock lock(mutex_);
        std::vector<FailingStreak> failing;
        for (const StreakChange& change : streak_changes(updates)) {
            Key k = key(change.entity, change.integration);
            if (change.ends)
                streaks_.erase(k);
            if (!change.failed_at)
                continue;
            const Timestamp since = streaks_.emplace(std::move(k), *change.failed_at).first->second;
            failing.push_back({.entity = std::string(change.entity),
                               .integration = std::string(change.integration),
                               .since = since});
        }
        return failing;
    }
    std::optional<Timestamp> failing_since(std::string_view entity,
                                           std::string_view name) const override {
        std::shared_lock lock(mutex_);
        auto it = streaks_.find(key(entity, name));
        if (it == streaks_.end())
            return std::nullopt;
        return it->second;
    }

  private:
    using Key = std::pair<std::string, std::string>;
    static Key key(std::string_view entity, std::string_view name) {
        return {std::string(entity), std::string(name)};
    }

    mutable std::shared_mutex mutex_;
    std::map<Key, Integration> integrations_;  ///< by (entity, name): `list` comes out by name
    std::map<Key, Timestamp> streaks_;         ///< when each failing integration began failing
};

}  // namespace

std::unique_ptr<IntegrationStore> make_memory_integration_store() {
    return std::make_unique<MemoryIntegrationStore>();
}

}  // namespace herald::detail
