// IntegrationStore (herald/integration_store.hpp), against the backend under test.
#include "support/test_storage.hpp"

#include <herald/error.hpp>
#include <herald/integration_store.hpp>

#include <catch2/catch.hpp>

using namespace herald;

TEST_CASE("integrations are kept per entity by name", "[integrations]") {
    auto storage = herald::test::make_storage();
    IntegrationStore& store = storage->integrations();
    const WebhookIntegration deploy{.entity = "acme",
                                    .name = "deploy",
                                    .url = "https://ci.example.com/hook",
                                    .access_token = "GH_TOKEN",
                                    .signature = SignatureScheme::github,
                                    .signing_secret = "GH_KEY",
                                    .headers = {{.name = "X-Team", .value = "ml"}}};
    const SlackIntegration alerts{
        .entity = "acme", .name = "ml alerts", .bot_token = "SLACK_BOT", .channel = "#ml"};
    const WebhookIntegration other{.entity = "globex", .name = "deploy", .url = "https://g.io"};
    store.insert(deploy);
    store.insert(alerts);
    store.insert(other);
    CHECK_THROWS_AS(store.insert(deploy), Error);

    CHECK(store.find("acme", "deploy") == Integration(deploy));
    CHECK(store.find("acme", "ml alerts") == Integration(alerts));
    CHECK_FALSE(store.find("acme", "missing"));
    CHECK(store.list("acme") == std::vector<Integration>{deploy, alerts});

    WebhookIntegration disabled = deploy;
    disabled.enabled = false;
    store.update(disabled);
    CHECK(store.find("acme", "deploy") == Integration(disabled));
    WebhookIntegration missing = deploy;
    missing.name = "missing";
    CHECK_THROWS_AS(store.update(missing), Error);

    CHECK(store.erase("acme", "deploy"));
    CHECK_FALSE(store.erase("acme", "deploy"));
    CHECK(store.list("acme") == std::vector<Integration>{alerts});
    CHECK(store.list("globex") == std::vector<Integration>{other});
}
