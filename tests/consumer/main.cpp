// Exits 0 when herald, consumed as a package, matches an event.
#include <herald/herald.hpp>

int main() {
    herald::Engine engine;
    engine.automations().create(
        {.user = "ada", .roles = {herald::Role::entity_admin("acme")}},
        herald::Automation{
            .name = "on-production",
            .scope = herald::Scope::for_project("acme", "mnist"),
            .trigger = herald::trigger::AddArtifactAlias{.alias = herald::Pattern{"production"}}});
    const auto receipt = engine.publish(herald::Event{
        .entity = "acme",
        .project = "mnist",
        .body = herald::AliasAdded{.version = {.collection = "clf"}, .alias = "production"}});
    return receipt.firings.size() == 1 ? 0 : 1;
}
