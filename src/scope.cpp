#include <herald/scope.hpp>

namespace herald {

Scope Scope::for_entity(std::string entity) {
    return {.kind = ScopeKind::entity, .entity = std::move(entity)};
}
Scope Scope::for_project(std::string entity, std::string project) {
    return {.kind = ScopeKind::project, .entity = std::move(entity), .project = std::move(project)};
}
Scope Scope::for_registry(std::string entity, std::string registry) {
    return {
        .kind = ScopeKind::registry, .entity = std::move(entity), .project = std::move(registry)};
}
Scope Scope::for_collection(std::string entity, std::string project, std::string collection) {
    return {.kind = ScopeKind::collection,
            .entity = std::move(entity),
            .project = std::move(project),
            .collection = std::move(collection)};
}

std::string Scope::path() const {
    std::string p = entity;
    if (kind == ScopeKind::entity)
        return p;
    p += '/';
    p += project;
    if (kind != ScopeKind::collection)
        return p;
    p += '/';
    p += collection;
    return p;
}

std::string_view to_string(ScopeKind kind) noexcept {
    switch (kind) {
        case ScopeKind::entity:
            return "ENTITY";
        case ScopeKind::project:
            return "PROJECT";
        case ScopeKind::registry:
            return "REGISTRY";
        case ScopeKind::collection:
            return "COLLECTION";
    }
    return "?";
}

}  // namespace herald
