// herald/authorizer.hpp — who may manage what.
//
// The host passes a `Principal` (the user and the roles it holds) to every management call;
// herald asks the engine's `Authorizer`. The default rules: an entity admin manages everything
// in the entity (automations, integrations, secrets); a project writer manages the automations
// whose scope lies inside that project; any member of an entity may view its automations and
// read its history.
//
// clang-format off
//     herald::Principal alice{.user = "alice",
//                             .roles = {herald::Role::project_writer("acme", "mnist")}};
// clang-format on
#pragma once

#include <herald/scope.hpp>

#include <string>
#include <vector>

namespace herald {

struct Role {
    enum class Kind { entity_admin, project_writer, entity_member };
    Kind kind = Kind::entity_member;
    std::string entity;
    std::string project;  ///< for project_writer

    static Role entity_admin(std::string entity);
    static Role project_writer(std::string entity, std::string project);
    static Role entity_member(std::string entity);
};

/// The caller of a management operation, as the host authenticated it.
struct Principal {
    std::string user;
    std::vector<Role> roles;
};

enum class Permission {
    view_automations,
    manage_automations,
    manage_integrations,
    manage_secrets,
    view_history,  ///< read the firings of the scope's events (`Engine::history`)
};

/// Decides whether a principal may do something within a scope. Implementations must be
/// thread-safe; herald calls `allows` on every management call.
class Authorizer {
  public:
    virtual ~Authorizer() = default;
    virtual bool allows(const Principal& who, Permission what, const Scope& where) const = 0;
};

/// The default rules described above.
class DefaultAuthorizer final : public Authorizer {
  public:
    bool allows(const Principal& who, Permission what, const Scope& where) const override;
};

}  // namespace herald
