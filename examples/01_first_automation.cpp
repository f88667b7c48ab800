// First steps: one automation, one event, one firing.
//
// An automation in the model registry fires when the alias "production" is added to a version;
// its action records the firing and does nothing else.
#include <herald/herald.hpp>

#include <iostream>

int main() {
    herald::Engine engine;  // in-memory storage, system clock, default authorizer
    const herald::Principal admin{.user = "ada", .roles = {herald::Role::entity_admin("acme")}};

    const herald::Automation automation = engine.automations().create(
        admin,
        herald::Automation{
            .name = "promote-to-production",
            .scope = herald::Scope::for_registry("acme", "model-registry"),
            .trigger = herald::trigger::AddArtifactAlias{.alias = herald::Pattern{"production"}},
            .action = herald::action::None{}});

    const herald::PublishReceipt receipt = engine.publish(herald::Event{
        .author = "grace",
        .entity = "acme",
        .project = "model-registry",
        .body = herald::AliasAdded{.version = {.collection = "classifier", .index = 3},
                                   .alias = "production"}});

    for (const herald::Firing& firing : receipt.firings)
        std::cout << firing.automation_name << " fired: " << firing.reason << '\n';
    return receipt.firings.size() == 1 ? 0 : 1;
}
