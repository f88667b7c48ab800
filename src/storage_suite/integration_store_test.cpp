// IntegrationStore (herald/integration_store.hpp), against the backend under test.
#include "support/test_storage.hpp"

#include <herald/error.hpp>
#include <herald/integration_store.hpp>
#include <herald/storage.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

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

TEST_CASE("a failing streak keeps its first failure until a success ends it", "[integrations]") {
    using namespace std::chrono_literals;
    auto storage = herald::test::make_storage();
    IntegrationStore& store = storage->integrations();
    const Timestamp t0{std::chrono::hours{1000}};
    const auto failed = [](std::string name, Timestamp at) {
        return StreakUpdate{.entity = "acme", .integration = std::move(name), .failed_at = at};
    };
    const auto succeeded = [](std::string name) {
        return StreakUpdate{.entity = "acme", .integration = std::move(name)};
    };
    CHECK_FALSE(store.failing_since("acme", "deploy"));

    // Integrations come back in (entity, name) order, each once, whatever order the updates had.
    const std::vector<StreakUpdate> first{failed("deploy", t0), failed("alerts", t0 + 1s),
                                          failed("deploy", t0 + 2s)};
    CHECK(store.update_streaks(first) ==
          std::vector<FailingStreak>{{.entity = "acme", .integration = "alerts", .since = t0 + 1s},
                                     {.entity = "acme", .integration = "deploy", .since = t0}});
    // A later failure, written by anyone, leaves the stored start as it is.
    const StreakUpdate later = failed("deploy", t0 + 1h);
    CHECK(store.update_streaks({&later, 1}) ==
          std::vector<FailingStreak>{{.entity = "acme", .integration = "deploy", .since = t0}});
    CHECK(store.failing_since("acme", "deploy") == t0);

    // A success ends the streak; a failure after it in the same updates starts the next one.
    const std::vector<StreakUpdate> mixed{failed("deploy", t0 + 2h), succeeded("deploy"),
                                          failed("deploy", t0 + 3h), failed("deploy", t0 + 4h),
                                          succeeded("alerts")};
    CHECK(
        store.update_streaks(mixed) ==
        std::vector<FailingStreak>{{.entity = "acme", .integration = "deploy", .since = t0 + 3h}});
    CHECK_FALSE(store.failing_since("acme", "alerts"));
    CHECK(store.failing_since("acme", "deploy") == t0 + 3h);
    CHECK_FALSE(store.failing_since("globex", "deploy"));

    // Erasing the integration drops its streak.
    store.insert(WebhookIntegration{.entity = "acme", .name = "deploy", .url = "https://ci.io"});
    CHECK(store.erase("acme", "deploy"));
    CHECK_FALSE(store.failing_since("acme", "deploy"));
}

TEST_CASE("a settlement writes the streaks with the outcomes", "[integrations]") {
    auto storage = herald::test::make_storage();
    const Timestamp t0{std::chrono::hours{1000}};
    const StreakUpdate failed{.entity = "acme", .integration = "deploy", .failed_at = t0};
    const SettleResult result = storage->settle({.streaks = {&failed, 1}});
    CHECK(result.lost.empty());
    CHECK(result.failing ==
          std::vector<FailingStreak>{{.entity = "acme", .integration = "deploy", .since = t0}});
    CHECK(storage->integrations().failing_since("acme", "deploy") == t0);
}
