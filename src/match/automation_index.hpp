// The matching index: enabled automations keyed on scope and the event kind they listen to.
//
// An event is matched by at most three hash lookups (its entity, its project, its collection),
// each giving the automations of that scope listening to the event's kind; the cost does not
// depend on how many automations other scopes hold. Not synchronised: the engine guards it.
#pragma once

#include <herald/automation.hpp>
#include <herald/event.hpp>

#include <array>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace herald::detail {

class AutomationIndex {
  public:
    using Entry = std::shared_ptr<const Automation>;

    void insert(Entry automation);
    /// Removes the entry with `automation.id` filed under `automation`'s scope and trigger.
    void erase(const Automation& automation);

    /// Calls `f(const Entry&)` for every indexed automation whose scope contains the event and
    /// whose trigger listens to its kind. Trigger filters are not applied here.
    template <class F>
    void for_each_candidate(const Event& event, F&& f) const {
        const auto kind = static_cast<std::size_t>(event.kind());
        const ArtifactVersion* artifact = event.artifact();
        visit_bucket(entity_key(event.entity), kind, f);
        visit_bucket(project_key(event.entity, event.project), kind, f);
        if (artifact)
            visit_bucket(collection_key(event.entity, event.project, artifact->collection), kind,
                         f);
    }

    std::size_t size() const noexcept { return size_; }

  private:
    struct Bucket {
        std::array<std::vector<Entry>, event_kind_count> by_event;
    };
    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept {
            return std::hash<std::string_view>{}(s);
        }
    };

    template <class F>
    void visit_bucket(std::string_view key, std::size_t kind, F& f) const {
        auto it = buckets_.find(key);
        if (it == buckets_.end())
            return;
        for (const Entry& e : it->second.by_event[kind])
            f(e);
    }

    // Keys are built in a per-thread buffer so a lookup allocates nothing once warm.
    static std::string_view entity_key(std::string_view entity);
    static std::string_view project_key(std::string_view entity, std::string_view project);
    static std::string_view collection_key(std::string_view entity, std::string_view project,
                                           std::string_view collection);
    static std::string_view key_of(const Scope& scope);

    std::unordered_map<std::string, Bucket, Hash, std::equal_to<>> buckets_;
    std::size_t size_ = 0;
};

}  // namespace herald::detail
