#include <herald/authorizer.hpp>

#include <catch2/catch.hpp>

using namespace herald;

TEST_CASE("default rules: admins manage everything in their entity", "[authorizer]") {
    const DefaultAuthorizer auth;
    const Principal admin{.user = "a", .roles = {Role::entity_admin("acme")}};
    for (Permission p : {Permission::view_automations, Permission::manage_automations,
                         Permission::manage_integrations, Permission::manage_secrets}) {
        CHECK(auth.allows(admin, p, Scope::for_entity("acme")));
        CHECK(auth.allows(admin, p, Scope::for_collection("acme", "reg", "clf")));
        CHECK_FALSE(auth.allows(admin, p, Scope::for_entity("globex")));
    }
}

TEST_CASE("default rules: project writers manage automations inside their project",
          "[authorizer]") {
    const DefaultAuthorizer auth;
    const Principal writer{.user = "w", .roles = {Role::project_writer("acme", "mnist")}};
    CHECK(auth.allows(writer, Permission::manage_automations, Scope::for_project("acme", "mnist")));
    CHECK(auth.allows(writer, Permission::manage_automations,
                      Scope::for_collection("acme", "mnist", "clf")));
    CHECK_FALSE(
        auth.allows(writer, Permission::manage_automations, Scope::for_project("acme", "cifar")));
    CHECK_FALSE(auth.allows(writer, Permission::manage_automations, Scope::for_entity("acme")));
    CHECK_FALSE(
        auth.allows(writer, Permission::manage_secrets, Scope::for_project("acme", "mnist")));
    CHECK_FALSE(auth.allows(writer, Permission::manage_integrations, Scope::for_entity("acme")));
}

TEST_CASE("default rules: members view, nobody else does", "[authorizer]") {
    const DefaultAuthorizer auth;
    const Principal member{.user = "m", .roles = {Role::entity_member("acme")}};
    CHECK(auth.allows(member, Permission::view_automations, Scope::for_project("acme", "x")));
    CHECK_FALSE(
        auth.allows(member, Permission::manage_automations, Scope::for_project("acme", "x")));
    CHECK_FALSE(auth.allows(Principal{.user = "nobody"}, Permission::view_automations,
                            Scope::for_entity("acme")));
}
