#include "match/automation_index.hpp"

#include <algorithm>

namespace herald::detail {
namespace {

// Scope names never contain NUL (validation refuses it), so it separates the parts of a key.
std::string& key_buffer(char tag) {
    thread_local std::string buffer;
    buffer.clear();
    buffer.push_back(tag);
    return buffer;
}

void append_part(std::string& key, std::string_view part) {
    key.push_back('\0');
    key.append(part);
}

}  // namespace

std::string_view AutomationIndex::entity_key(std::string_view entity) {
    std::string& key = key_buffer('E');
    append_part(key, entity);
    return key;
}

std::string_view AutomationIndex::project_key(std::string_view entity, std::string_view project) {
    std::string& key = key_buffer('P');
    append_part(key, entity);
    append_part(key, project);
    return key;
}

std::string_view AutomationIndex::collection_key(std::string_view entity, std::string_view project,
                                                 std::string_view collection) {
    std::string& key = key_buffer('C');
    append_part(key, entity);
    append_part(key, project);
    append_part(key, collection);
    return key;
}

std::string_view AutomationIndex::key_of(const Scope& scope) {
    switch (scope.kind) {
        case ScopeKind::entity:
            return entity_key(scope.entity);
        case ScopeKind::project:
        case ScopeKind::registry:
            return project_key(scope.entity, scope.project);
        case ScopeKind::collection:
            return collection_key(scope.entity, scope.project, scope.collection);
    }
    return {};
}

void AutomationIndex::insert(Entry automation) {
    const auto kind = static_cast<std::size_t>(listens_to(automation->trigger.kind()));
    auto key = key_of(automation->scope);
    auto it = buckets_.find(key);
    if (it == buckets_.end())
        it = buckets_.emplace(std::string(key), Bucket{}).first;
    it->second.by_event[kind].push_back(std::move(automation));
    ++size_;
}

void AutomationIndex::erase(const Automation& automation) {
    auto it = buckets_.find(key_of(automation.scope));
    if (it == buckets_.end())
        return;
    auto& entries =
        it->second.by_event[static_cast<std::size_t>(listens_to(automation.trigger.kind()))];
    auto pos = std::find_if(entries.begin(), entries.end(),
                            [&](const Entry& e) { return e->id == automation.id; });
    if (pos == entries.end())
        return;
    entries.erase(pos);
    --size_;
    const auto& all = it->second.by_event;
    if (std::all_of(all.begin(), all.end(), [](const auto& v) { return v.empty(); }))
        buckets_.erase(it);
}

}  // namespace herald::detail
