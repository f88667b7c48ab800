#include "storage/memory_trigger_state_store.hpp"

#include <algorithm>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

namespace herald::detail {
namespace {

struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
        return std::hash<std::string_view>{}(s);
    }
};
template <class T>
using StringMap = std::unordered_map<std::string, T, StringHash, std::equal_to<>>;

/// One (automation, run). Values are trimmed to `keep` only once twice as many have piled up,
/// so an append costs O(1) amortized instead of shifting the window on every value.
struct Record {
    std::vector<double> values;
    std::size_t keep = 0;
    std::optional<std::int64_t> last_step;
    std::optional<Timestamp> last_fired;
    ConditionProgress condition;

    std::span<const double> kept() const {
        const std::size_t n = std::min(keep, values.size());
        return {values.end() - static_cast<std::ptrdiff_t>(n), values.end()};
    }
};

class MemoryTriggerStateStore final : public TriggerStateStore {
  public:
    void append_values(const TriggerStateKey& key, std::span<const double> values,
                       std::int64_t step, std::size_t keep) override {
        std::lock_guard lock(mutex_);
        Record& r = record(key);
        r.keep = keep;
        r.last_step = step;
        r.values.insert(r.values.end(), values.begin(), values.end());
        if (r.values.size() > 2 * keep)
            r.values.erase(r.values.begin(), r.values.end() - static_cast<std::ptrdiff_t>(keep));
    }
    void record_firing(const TriggerStateKey& key, Timestamp time) override {
        std::lock_guard lock(mutex_);
        record(key).last_fired = time;
    }
    void save_condition(const TriggerStateKey& key, const ConditionProgress& progress) override {
        std::lock_guard lock(mutex_);
        record(key).condition = progress;
    }
    std::optional<RunTriggerState> load(const TriggerStateKey& key) const override {
        std::lock_guard lock(mutex_);
        auto automation = by_automation_.find(key.automation_id);
        if (automation == by_automation_.end())
            return std::nullopt;
        auto run = automation->second.find(key.run_id);
        if (run == automation->second.end())
            return std::nullopt;
        const Record& r = run->second;
        const std::span<const double> kept = r.kept();
        return RunTriggerState{.values = {kept.begin(), kept.end()},
                               .last_step = r.last_step,
                               .last_fired = r.last_fired,
                               .condition = r.condition};
    }
    void erase_run(const TriggerStateKey& key) override {
        std::lock_guard lock(mutex_);
        auto automation = by_automation_.find(key.automation_id);
        if (automation == by_automation_.end())
            return;
        if (auto run = automation->second.find(key.run_id); run != automation->second.end())
            automation->second.erase(run);
        if (automation->second.empty())
            by_automation_.erase(automation);
    }
    void erase_automation(std::string_view automation_id) override {
        std::lock_guard lock(mutex_);
        if (auto it = by_automation_.find(automation_id); it != by_automation_.end())
            by_automation_.erase(it);
        if (auto it = populations_.find(automation_id); it != populations_.end())
            populations_.erase(it);
    }

    void put_population_value(std::string_view automation_id, std::string_view run_id, double value,
                              std::size_t keep) override {
        std::lock_guard lock(mutex_);
        auto it = populations_.find(automation_id);
        if (it == populations_.end())
            it = populations_.emplace(std::string(automation_id), std::vector<PopulationValue>{})
                     .first;
        std::vector<PopulationValue>& p = it->second;
        // Linear in the population (at most `keep` runs): the engine writes once per event of
        // an automation that compares across runs, and populations are small.
        std::erase_if(p, [&](const PopulationValue& v) { return v.run_id == run_id; });
        p.push_back({std::string(run_id), value});
        if (p.size() > keep)
            p.erase(p.begin(), p.end() - static_cast<std::ptrdiff_t>(keep));
    }
    std::vector<PopulationValue> load_population(std::string_view automation_id) const override {
        std::lock_guard lock(mutex_);
        const auto it = populations_.find(automation_id);
        return it == populations_.end() ? std::vector<PopulationValue>{} : it->second;
    }
    void restart_windows(std::string_view automation_id) override {
        std::lock_guard lock(mutex_);
        if (auto it = populations_.find(automation_id); it != populations_.end())
            populations_.erase(it);
        if (auto it = by_automation_.find(automation_id); it != by_automation_.end())
            for (auto& [run_id, r] : it->second) {
                r.values.clear();
                r.condition = {};
            }
    }

  private:
    Record& record(const TriggerStateKey& key) {
        auto automation = by_automation_.find(key.automation_id);
        if (automation == by_automation_.end())
            automation =
                by_automation_.emplace(std::string(key.automation_id), StringMap<Record>{}).first;
        auto run = automation->second.find(key.run_id);
        if (run == automation->second.end())
            run = automation->second.emplace(std::string(key.run_id), Record{}).first;
        return run->second;
    }

    mutable std::mutex mutex_;  ///< plain: reads are rare (first sight of a run per process)
    StringMap<StringMap<Record>> by_automation_;           ///< automation id -> run id -> record
    StringMap<std::vector<PopulationValue>> populations_;  ///< least recently updated first
};

}  // namespace

std::unique_ptr<TriggerStateStore> make_memory_trigger_state_store() {
    return std::make_unique<MemoryTriggerStateStore>();
}

}  // namespace herald::detail
