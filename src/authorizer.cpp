#include <herald/authorizer.hpp>

#include <algorithm>

namespace herald {

Role Role::entity_admin(std::string entity) {
    return {.kind = Kind::entity_admin, .entity = std::move(entity)};
}
Role Role::project_writer(std::string entity, std::string project) {
    return {
        .kind = Kind::project_writer, .entity = std::move(entity), .project = std::move(project)};
}
Role Role::entity_member(std::string entity) {
    return {.kind = Kind::entity_member, .entity = std::move(entity)};
}

bool DefaultAuthorizer::allows(const Principal& who, Permission what, const Scope& where) const {
    return std::any_of(who.roles.begin(), who.roles.end(), [&](const Role& role) {
        if (role.entity != where.entity)
            return false;
        switch (role.kind) {
            case Role::Kind::entity_admin:
                return true;
            case Role::Kind::project_writer:
                if (what == Permission::view_automations || what == Permission::view_history)
                    return true;
                return what == Permission::manage_automations && where.kind != ScopeKind::entity &&
                       role.project == where.project;
            case Role::Kind::entity_member:
                return what == Permission::view_automations || what == Permission::view_history;
        }
        return false;
    });
}

}  // namespace herald
