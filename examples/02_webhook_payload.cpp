// Second steps: a secret, a webhook integration and a payload template.
//
// An admin stores a GitHub token as a secret of the entity and creates a webhook integration that
// sends it as the access token. An automation posts the W&B docs' repository_dispatch payload when
// "production" is added. Templates are checked when the automation is created: a variable that
// can never apply to the trigger is refused with its position. The engine has no executor, so it
// records the firing without sending it; the payload is shown as history would show it, with the
// secret masked.
#include <herald/herald.hpp>

#include <iostream>

int main() {
    herald::Engine engine;
    const herald::Principal admin{.user = "ada", .roles = {herald::Role::entity_admin("acme")}};

    engine.secrets().put(admin, "acme", "GH_TOKEN", "ghp_example_only");
    engine.integrations().create(
        admin, herald::WebhookIntegration{.entity = "acme",
                                          .name = "github dispatch",
                                          .url = "https://api.github.com/repos/acme/ml/dispatches",
                                          .access_token = "GH_TOKEN"});

    herald::Automation automation{
        .name = "deploy-production",
        .scope = herald::Scope::for_registry("acme", "model-registry"),
        .trigger = herald::trigger::AddArtifactAlias{.alias = herald::Pattern{"production"}},
        .action = herald::action::Webhook{.integration = "github dispatch",
                                          .payload = R"({"event_type": "BUILD_AND_DEPLOY",
                           "client_payload": {"version": "${artifact_version_string}",
                                              "author": "${event_author}",
                                              "status": "${run_status}"}})"}};
    try {
        engine.automations().create(admin, automation);
        return 1;  // ${run_status} never applies to an alias trigger
    } catch (const herald::Error& e) {
        std::cout << "refused: " << e.field() << ": " << e.reason() << '\n';
    }

    automation.action = herald::action::Webhook{.integration = "github dispatch",
                                                .payload = R"({"event_type": "BUILD_AND_DEPLOY",
                       "client_payload": {"version": "${artifact_version_string}",
                                          "author": "${event_author}",
                                          "token_for_the_demo": "${ACCESS_TOKEN}"}})"};
    const herald::Automation created = engine.automations().create(admin, automation);

    const herald::PublishReceipt receipt = engine.publish(herald::Event{
        .author = "grace",
        .entity = "acme",
        .project = "model-registry",
        .body = herald::AliasAdded{.version = {.collection = "classifier", .index = 3},
                                   .alias = "production"}});
    if (receipt.firings.size() != 1)
        return 1;

    const auto* webhook = created.action.get_if<herald::action::Webhook>();
    const herald::Template payload = herald::Template::compile(
        webhook->payload, {.trigger = created.trigger.kind(), .access_token = true});
    // {"event_type":"BUILD_AND_DEPLOY","client_payload":{"version":
    //  "acme/model-registry/classifier:production","author":"grace","token_for_the_demo":"********"}}
    std::cout << payload.render_masked(receipt.firings.front()) << '\n';
    return 0;
}
