#include <herald/error.hpp>
#include <herald/memory_storage.hpp>

#include <algorithm>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>

namespace herald {
namespace {

class MemoryAutomationStore final : public AutomationStore {
  public:
    void insert(const Automation& automation) override {
        std::unique_lock lock(mutex_);
        if (!automations_.emplace(automation.id, automation).second)
            throw Error(errc::already_exists, "id",
                        "automation id '" + automation.id + "' is taken");
    }
    void update(const Automation& automation) override {
        std::unique_lock lock(mutex_);
        auto it = automations_.find(automation.id);
        if (it == automations_.end())
            throw Error(errc::not_found, "id", "no automation with id '" + automation.id + "'");
        it->second = automation;
    }
    bool erase(std::string_view id) override {
        std::unique_lock lock(mutex_);
        return automations_.erase(std::string(id)) != 0;
    }
    std::optional<Automation> find(std::string_view id) const override {
        std::shared_lock lock(mutex_);
        auto it = automations_.find(std::string(id));
        if (it == automations_.end())
            return std::nullopt;
        return it->second;
    }
    std::vector<Automation> all() const override {
        std::shared_lock lock(mutex_);
        std::vector<Automation> out;
        out.reserve(automations_.size());
        for (const auto& [id, a] : automations_)
            out.push_back(a);
        return out;
    }

  private:
    mutable std::shared_mutex mutex_;
    std::map<std::string, Automation> automations_;
};

class MemoryHistoryStore final : public HistoryStore {
  public:
    void append(std::span<const Firing> firings) override {
        std::unique_lock lock(mutex_);
        for (const Firing& f : firings)
            by_automation_[f.automation_id].push_back(f);
    }
    std::vector<Firing> by_automation(std::string_view automation_id,
                                      std::size_t limit) const override {
        std::shared_lock lock(mutex_);
        auto it = by_automation_.find(std::string(automation_id));
        if (it == by_automation_.end())
            return {};
        const auto& all = it->second;
        const std::size_t n = std::min(limit, all.size());
        return std::vector<Firing>(all.rbegin(), all.rbegin() + static_cast<std::ptrdiff_t>(n));
    }

  private:
    mutable std::shared_mutex mutex_;
    std::unordered_map<std::string, std::vector<Firing>> by_automation_;
};

}  // namespace

struct MemoryStorage::Stores {
    MemoryAutomationStore automations;
    MemoryHistoryStore history;
};

MemoryStorage::MemoryStorage() : stores_(std::make_unique<Stores>()) {}
MemoryStorage::~MemoryStorage() = default;

AutomationStore& MemoryStorage::automations() {
    return stores_->automations;
}
HistoryStore& MemoryStorage::history() {
    return stores_->history;
}

}  // namespace herald
