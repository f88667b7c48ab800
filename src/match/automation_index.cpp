#include "match/automation_index.hpp"

#include <algorithm>
#include <functional>

namespace herald::detail {
namespace {

/// A 64-bit finaliser (splitmix64): spreads the combined hashes over the whole word.
constexpr std::uint64_t mix(std::uint64_t x) noexcept {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

std::uint64_t hash_of(std::string_view s) noexcept {
    return std::hash<std::string_view>{}(s);
}

ScopeKind level_of(ScopeKind kind) noexcept {
    return kind == ScopeKind::registry ? ScopeKind::project : kind;
}

}  // namespace

AutomationIndex::ScopeHashes AutomationIndex::hashes(std::string_view entity,
                                                     std::string_view project,
                                                     std::string_view collection) noexcept {
    ScopeHashes h{};
    h.entity = mix(hash_of(entity));
    h.project = mix(h.entity ^ hash_of(project));
    h.collection = mix(h.project ^ hash_of(collection));
    return h;
}

std::uint64_t AutomationIndex::key(ScopeKind level, std::uint64_t scope_hash,
                                   EventKind kind) noexcept {
    return mix(scope_hash ^ (static_cast<std::uint64_t>(level) << 8) ^
               static_cast<std::uint64_t>(kind));
}

std::uint64_t AutomationIndex::key_of(const Automation& a) noexcept {
    const ScopeHashes h = hashes(a.scope.entity, a.scope.project, a.scope.collection);
    const ScopeKind level = level_of(a.scope.kind);
    const std::uint64_t scope_hash = level == ScopeKind::entity    ? h.entity
                                     : level == ScopeKind::project ? h.project
                                                                   : h.collection;
    return key(level, scope_hash, listens_to(a.trigger.kind()));
}

bool AutomationIndex::contains(const Scope& scope, const Event& event) noexcept {
    if (scope.entity != event.entity)
        return false;
    if (scope.kind == ScopeKind::entity)
        return true;
    if (scope.project != event.project)
        return false;
    if (scope.kind != ScopeKind::collection)
        return true;
    const ArtifactVersion* artifact = event.artifact();
    return artifact && artifact->collection == scope.collection;
}

void AutomationIndex::insert(Entry automation) {
    const std::uint64_t k = key_of(*automation);
    buckets_[k].push_back(std::move(automation));
    ++size_;
}

void AutomationIndex::erase(const Automation& automation) {
    auto it = buckets_.find(key_of(automation));
    if (it == buckets_.end())
        return;
    auto& entries = it->second;
    auto pos = std::find_if(entries.begin(), entries.end(),
                            [&](const Entry& e) { return e->id == automation.id; });
    if (pos == entries.end())
        return;
    entries.erase(pos);
    --size_;
    if (entries.empty())
        buckets_.erase(it);
}

}  // namespace herald::detail
