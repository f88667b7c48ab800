// herald/scope.hpp — where an automation listens.
//
// clang-format off
//     auto e = herald::Scope::for_entity("acme");
//     auto s = herald::Scope::for_project("acme", "mnist");
//     auto r = herald::Scope::for_registry("acme", "model-registry");
//     auto c = herald::Scope::for_collection("acme", "model-registry", "classifier");
// clang-format on
//
// An entity scope covers all the entity's projects and registries, including ones created later;
// a project or registry scope covers all its collections, including later ones; a collection
// scope covers that collection only.
#pragma once

#include <string>
#include <string_view>

namespace herald {

enum class ScopeKind { entity, project, registry, collection };

/// Value type; thread-compatible.
struct Scope {
    ScopeKind kind = ScopeKind::project;
    std::string entity;
    std::string project;     ///< the project or registry; empty for an entity scope
    std::string collection;  ///< only for a collection scope

    static Scope for_entity(std::string entity);
    static Scope for_project(std::string entity, std::string project);
    static Scope for_registry(std::string entity, std::string registry);
    static Scope for_collection(std::string entity, std::string project, std::string collection);

    /// "acme", "acme/mnist", "acme/model-registry/classifier".
    std::string path() const;

    friend bool operator==(const Scope&, const Scope&) = default;
};

std::string_view to_string(ScopeKind kind) noexcept;  ///< "ENTITY", "PROJECT", ...

}  // namespace herald
