// The matching index: enabled automations keyed on scope and the event kind they listen to.
//
// An event is matched by at most three hash lookups (its entity, its project, its collection,
// each combined with the event's kind), each giving exactly the automations of that scope that
// listen to that kind; the cost does not depend on how many automations other scopes hold.
//
// The table is keyed on a 64-bit hash of (scope level, names, event kind) rather than on the
// names themselves, so a lookup builds no string and touches few cache lines. Two scopes whose
// keys collide share a bucket; every candidate's own scope is compared with the event before it
// is offered, so a collision costs a comparison, never a wrong match. Not synchronised: the
// engine guards it.
#pragma once

#include <herald/automation.hpp>
#include <herald/event.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
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
        const ArtifactVersion* artifact = event.artifact();
        const ScopeHashes h = hashes(event.entity, event.project,
                                     artifact ? std::string_view(artifact->collection) : "");
        const auto kind = event.kind();
        visit(key(ScopeKind::entity, h.entity, kind), event, f);
        visit(key(ScopeKind::project, h.project, kind), event, f);
        if (artifact)
            visit(key(ScopeKind::collection, h.collection, kind), event, f);
    }

    std::size_t size() const noexcept { return size_; }
    /// Whether `scope` holds the event (its entity, project, registry or collection).
    static bool contains(const Scope& scope, const Event& event) noexcept;

  private:
    struct ScopeHashes {
        std::uint64_t entity, project, collection;
    };
    struct Identity {
        std::size_t operator()(std::uint64_t h) const noexcept {
            return static_cast<std::size_t>(h);
        }
    };

    static ScopeHashes hashes(std::string_view entity, std::string_view project,
                              std::string_view collection) noexcept;
    /// Registry scopes share the project level: both are keyed on (entity, project).
    static std::uint64_t key(ScopeKind level, std::uint64_t scope_hash, EventKind kind) noexcept;
    static std::uint64_t key_of(const Automation& automation) noexcept;

    template <class F>
    void visit(std::uint64_t k, const Event& event, F& f) const {
        auto it = buckets_.find(k);
        if (it == buckets_.end())
            return;
        for (const Entry& e : it->second)
            if (contains(e->scope, event) && listens_to(e->trigger.kind()) == event.kind())
                f(e);
    }

    std::unordered_map<std::uint64_t, std::vector<Entry>, Identity> buckets_;
    std::size_t size_ = 0;
};

}  // namespace herald::detail
