// Engine::integrations(): admin-only management, field rules, references from automations,
// and how an automation's action is checked against its entity's integrations and secrets.
#include "support/error_of.hpp"
#include "support/event_builders.hpp"

#include <herald/engine.hpp>
#include <herald/error.hpp>

#include <boost/json/parse.hpp>

#include <catch2/catch.hpp>

#include <functional>
#include <string>
#include <vector>

using namespace herald;

namespace {

const Principal admin = test::admin_of("acme");
using test::error_of;

WebhookIntegration webhook(std::string name = "deploy") {
    return {.entity = "acme", .name = std::move(name), .url = "https://ci.example.com/hooks/1"};
}

SlackIntegration slack(std::string name = "alerts") {
    return {.entity = "acme",
            .name = std::move(name),
            .bot_token = "SLACK_BOT",
            .channel = "#ml-alerts"};
}

Automation automation(std::string name, Action action,
                      Trigger trigger = trigger::AddArtifactAlias{.alias = Pattern{"production"}}) {
    const bool run_trigger = trigger.run_filter() != nullptr;
    return {.name = std::move(name),
            .scope = run_trigger ? Scope::for_project("acme", "mnist")
                                 : Scope::for_registry("acme", "model-registry"),
            .trigger = std::move(trigger),
            .action = std::move(action)};
}

/// An engine whose entity "acme" has the secrets SLACK_BOT and GH_TOKEN.
struct Fixture {
    Engine engine;
    Fixture() {
        engine.secrets().put(admin, "acme", "SLACK_BOT", "xoxb-1");
        engine.secrets().put(admin, "acme", "GH_TOKEN", "ghp-1");
    }
    IntegrationManager& integrations() { return engine.integrations(); }
};

}  // namespace

TEST_CASE("only entity admins manage integrations", "[integrations]") {
    Fixture f;
    f.integrations().create(admin, webhook());
    const std::vector<Principal> others = {
        {.user = "writer", .roles = {Role::project_writer("acme", "model-registry")}},
        {.user = "member", .roles = {Role::entity_member("acme")}},
        {.user = "stranger", .roles = {Role::entity_admin("globex")}},
    };
    for (const Principal& who : others) {
        INFO(who.user);
        const auto denied = [](const Error& e) { return e.code() == errc::permission_denied; };
        CHECK(denied(error_of([&] { f.integrations().create(who, webhook("other")); })));
        CHECK(denied(error_of([&] { f.integrations().update(who, webhook()); })));
        CHECK(denied(error_of([&] { f.integrations().remove(who, "acme", "deploy", true); })));
        CHECK(denied(error_of([&] { f.integrations().get(who, "acme", "deploy"); })));
        CHECK(denied(error_of([&] { f.integrations().list(who, "acme"); })));
    }
    CHECK(f.integrations().get(admin, "acme", "deploy") == Integration(webhook()));
}

TEST_CASE("integration names", "[integrations]") {
    Fixture f;
    const std::vector<std::string> good = {"deploy", "Deploy to prod", "ml-alerts_2",
                                           std::string(64, 'n')};
    for (const std::string& name : good)
        f.integrations().create(admin, webhook(name));
    const std::vector<std::string> bad = {
        "", std::string(65, 'n'), "two  spaces", " leading", "trailing ", "slash/name", "dot.name"};
    for (const std::string& name : bad) {
        INFO(name);
        const Error e = error_of([&] { f.integrations().create(admin, webhook(name)); });
        CHECK(e.code() == errc::invalid_argument);
        CHECK(e.field() == "integration.name");
    }
    // Unique in the entity across kinds.
    const Error taken = error_of([&] { f.integrations().create(admin, slack("deploy")); });
    CHECK(taken.code() == errc::already_exists);
}

TEST_CASE("webhook URLs are absolute http(s) URLs without credentials", "[integrations]") {
    Fixture f;
    const std::vector<std::string> bad = {"",
                                          "ci.example.com/hook",
                                          "/relative/path",
                                          "ftp://ci.example.com/hook",
                                          "file:///etc/passwd",
                                          "https://user:pass@ci.example.com/hook",
                                          "https:///no-host",
                                          "https://exa mple.com/",
                                          "https://ci.example.com:0/hook",
                                          "https://ci.example.com:65561/hook",
                                          "https://10.0.0.1.nip.io/hook"};
    for (const std::string& url : bad) {
        INFO(url);
        WebhookIntegration w = webhook();
        w.url = url;
        const Error e = error_of([&] { f.integrations().create(admin, w); });
        CHECK(e.code() == errc::invalid_argument);
        CHECK(e.field() == "integration.url");
    }
    WebhookIntegration w = webhook();
    w.url = "HTTP://ci.example.com:8080/hooks?x=1";
    f.integrations().create(admin, w);
}

TEST_CASE("extra headers cannot override what herald sets", "[integrations]") {
    Fixture f;
    const std::vector<HttpHeaderField> refused = {
        {"Authorization", "Bearer x"},
        {"content-type", "text/plain"},
        {"X-Wandb-Signature", "s"},
        {"webhook-signature", "v1,x"},
        {"Webhook-Id", "1"},
        {"webhook-timestamp", "1"},
        {"X-Hub-Signature-256", "s"},
        {"Content-Length", "1"},
        {"Host", "evil.example.com"},
        {"Transfer-Encoding", "chunked"},
        {"X-Herald-Delivery", "x"},
        {"bad name", "v"},
        {"", "v"},
        {"X-Ok", "line\r\nInjected: yes"},
        {"X-Ok", std::string("nul\0", 4)},
    };
    for (const HttpHeaderField& h : refused) {
        INFO(h.name);
        WebhookIntegration w = webhook();
        w.headers = {h};
        const Error e = error_of([&] { f.integrations().create(admin, w); });
        CHECK(e.code() == errc::invalid_argument);
        CHECK_THAT(e.field(), Catch::StartsWith("integration.headers[0]."));
    }
    WebhookIntegration twice = webhook();
    twice.headers = {{"X-Team", "a"}, {"x-team", "b"}};
    CHECK(error_of([&] { f.integrations().create(admin, twice); }).field() ==
          "integration.headers[1].name");

    WebhookIntegration ok = webhook();
    ok.headers = {{"X-Team", "ml platform"}, {"User-Agent", "herald"}};
    ok.signature = SignatureScheme::standard;
    f.integrations().create(admin, ok);
}

TEST_CASE("integrations name secrets that exist in their entity", "[integrations]") {
    Fixture f;
    WebhookIntegration w = webhook();
    w.access_token = "NOPE";
    CHECK(error_of([&] { f.integrations().create(admin, w); }).field() ==
          "integration.access_token");
    w.access_token = "GH_TOKEN";
    w.signing_secret = "bad-name";
    CHECK(error_of([&] { f.integrations().create(admin, w); }).code() == errc::invalid_argument);
    w.signing_secret = "MISSING";
    const Error missing = error_of([&] { f.integrations().create(admin, w); });
    CHECK(missing.code() == errc::not_found);
    CHECK(missing.field() == "integration.signing_secret");

    SlackIntegration s = slack();
    s.bot_token = "ABSENT";
    CHECK(error_of([&] { f.integrations().create(admin, s); }).field() == "integration.bot_token");
}

TEST_CASE("a Slack integration has a webhook URL secret or a bot token with a channel",
          "[integrations]") {
    Fixture f;
    SlackIntegration both = slack();
    both.webhook_url_secret = "SLACK_BOT";
    CHECK(error_of([&] { f.integrations().create(admin, both); }).field() ==
          "integration.webhook_url_secret");
    SlackIntegration neither = slack();
    neither.bot_token.clear();
    CHECK(error_of([&] { f.integrations().create(admin, neither); }).field() ==
          "integration.webhook_url_secret");
    SlackIntegration no_channel = slack();
    no_channel.channel.clear();
    CHECK(error_of([&] { f.integrations().create(admin, no_channel); }).field() ==
          "integration.channel");
    SlackIntegration bad_base = slack();
    bad_base.api_base_url = "slack.com/api";
    CHECK(error_of([&] { f.integrations().create(admin, bad_base); }).field() ==
          "integration.api_base_url");

    f.integrations().create(admin, slack());
    f.integrations().create(admin, SlackIntegration{.entity = "acme",
                                                    .name = "incoming",
                                                    .webhook_url_secret = "SLACK_BOT",
                                                    .api_base_url = "http://127.0.0.1:9/api"});
    const auto listed = f.integrations().list(admin, "acme");
    REQUIRE(listed.size() == 2);
    CHECK(listed[0].name() == "alerts");
    CHECK(listed[1].name() == "incoming");
}

TEST_CASE("an integration in use is removed only with force", "[integrations]") {
    Fixture f;
    f.integrations().create(admin, webhook());
    const Automation a = f.engine.automations().create(
        admin, automation("ship", action::Webhook{.integration = "deploy", .payload = "{}"}));
    const Error e = error_of([&] { f.integrations().remove(admin, "acme", "deploy"); });
    CHECK(e.code() == errc::in_use);
    CHECK_THAT(e.reason(), Catch::Contains("automation 'ship' (id " + a.id + ")"));
    f.integrations().remove(admin, "acme", "deploy", true);
    CHECK(f.integrations().list(admin, "acme").empty());
    CHECK(error_of([&] { f.integrations().remove(admin, "acme", "deploy"); }).code() ==
          errc::not_found);
}

TEST_CASE("an update that would break the automations using it is refused", "[integrations]") {
    Fixture f;
    WebhookIntegration w = webhook();
    w.access_token = "GH_TOKEN";
    f.integrations().create(admin, w);
    f.engine.automations().create(
        admin, automation("ship", action::Webhook{.integration = "deploy",
                                                  .payload = R"({"t": "${ACCESS_TOKEN}"})"}));

    WebhookIntegration no_token = w;
    no_token.access_token.clear();
    const Error token = error_of([&] { f.integrations().update(admin, no_token); });
    CHECK(token.code() == errc::in_use);
    CHECK(token.field() == "integration.access_token");

    SlackIntegration other_kind = slack("deploy");
    CHECK(error_of([&] { f.integrations().update(admin, other_kind); }).code() == errc::in_use);

    WebhookIntegration moved = w;
    moved.url = "https://ci.example.com/hooks/2";
    moved.enabled = false;
    f.integrations().update(admin, moved);
    CHECK(f.integrations().get(admin, "acme", "deploy") == Integration(moved));
    CHECK(error_of([&] { f.integrations().update(admin, webhook("absent")); }).code() ==
          errc::not_found);
}

TEST_CASE("an automation's action must use an existing integration of the right kind",
          "[integrations][templates]") {
    Fixture f;
    f.integrations().create(admin, webhook());
    f.integrations().create(admin, slack());
    auto& automations = f.engine.automations();

    const Error missing = error_of([&] {
        automations.create(
            admin, automation("a", action::Webhook{.integration = "nope", .payload = "{}"}));
    });
    CHECK(missing.code() == errc::not_found);
    CHECK(missing.field() == "action.integration");

    const Error wrong_kind = error_of([&] {
        automations.create(admin, automation("a", action::SlackNotification{.integration = "deploy",
                                                                            .title = "t"}));
    });
    CHECK(wrong_kind.code() == errc::invalid_argument);
    CHECK(wrong_kind.field() == "action.integration");
    CHECK_THAT(wrong_kind.reason(), Catch::Contains("WEBHOOK integration"));

    const Error other_entity = error_of([&] {
        Automation a = automation("a", action::Webhook{.integration = "deploy", .payload = "{}"});
        a.scope = Scope::for_registry("globex", "model-registry");
        automations.create(test::admin_of("globex"), a);
    });
    CHECK(other_entity.code() == errc::not_found);
    CHECK(automations.list(admin, Scope::for_registry("acme", "model-registry")).empty());
}

TEST_CASE("an automation's templates are checked against its trigger and entity",
          "[integrations][templates]") {
    Fixture f;
    f.integrations().create(admin, webhook());
    f.integrations().create(admin, slack());
    auto& automations = f.engine.automations();
    struct Case {
        Automation automation;
        std::string field;
        std::string says;
    };
    const std::vector<Case> cases = {
        {automation("a",
                    action::Webhook{.integration = "deploy", .payload = R"({"a": "${alias}"})"},
                    trigger::RunStateChange{.states = {RunState::failed}}),
         "action.payload", "offset 7): ${alias} can never apply to RUN_STATE events"},
        {automation("a", action::Webhook{.integration = "deploy",
                                         .payload = R"({"a": "${ACCESS_TOKEN}"})"}),
         "action.payload", "integration has an access token"},
        {automation("a", action::Webhook{.integration = "deploy",
                                         .payload = R"({"a": "${NOT_A_SECRET}"})"}),
         "action.payload", "${NOT_A_SECRET} is neither a template variable nor a secret"},
        {automation("a", action::Webhook{.integration = "deploy", .payload = R"({"a": )"}),
         "action.payload", "invalid JSON at line 1, column 7"},
        {automation("a", action::SlackNotification{.integration = "alerts",
                                                   .title = "ok",
                                                   .message = "metric ${metric_value}"}),
         "action.message", "${metric_value} can never apply to ADD_ARTIFACT_ALIAS"},
        {automation("a",
                    action::SlackNotification{.integration = "alerts", .title = "${ACCESS_TOKEN}"}),
         "action.title", "only available in a webhook payload"},
        {automation("a",
                    action::SlackNotification{
                        .integration = "alerts", .title = "ok", .message = "token: ${GH_TOKEN}"}),
         "action.message", "a chat message may not use secrets"},
        {automation("a", action::LaunchJob{.queue = "q",
                                           .job = "train",
                                           .override = R"({"override": {"a": "${tag}"}})"}),
         "action.override", "offset 20): ${tag} can never apply"},
    };
    for (const Case& c : cases) {
        INFO(c.says);
        const Error e = error_of([&] { automations.create(admin, c.automation); });
        CHECK(e.field() == c.field);
        CHECK_THAT(e.reason(), Catch::Contains(c.says));
    }
    CHECK(automations.list(admin, Scope::for_registry("acme", "model-registry")).empty());
    CHECK(automations.list(admin, Scope::for_project("acme", "mnist")).empty());

    // A failed update leaves the automation as it was.
    const Automation ok = automations.create(
        admin,
        automation("ok",
                   action::Webhook{
                       .integration = "deploy",
                       .payload = R"({"v": "${artifact_version_string}", "k": "${GH_TOKEN}"})"}));
    Automation changed = ok;
    changed.action = action::Webhook{.integration = "deploy", .payload = R"({"r": "${run_id}"})"};
    CHECK(error_of([&] { automations.update(admin, ok.id, changed); }).field() == "action.payload");
    CHECK(automations.get(admin, ok.id) == ok);
}

TEST_CASE("a launch-job override is accepted wrapped or bare and stored bare",
          "[integrations][templates]") {
    Engine engine;
    const auto create = [&](std::string name, std::string override_text) {
        return engine.automations().create(
            admin,
            automation(std::move(name), action::LaunchJob{.queue = "gpu",
                                                          .job = "retrain",
                                                          .override = std::move(override_text)}));
    };
    const Automation wrapped =
        create("wrapped", R"({"override": {"run_config": {"model": "${artifact_version}"}}})");
    const Automation bare = create("bare", R"({"run_config": {"model": "${artifact_version}"}})");
    const auto override_of = [](const Automation& a) {
        return boost::json::parse(a.action.get_if<action::LaunchJob>()->override);
    };
    CHECK(override_of(wrapped) == override_of(bare));
    CHECK(override_of(wrapped) ==
          boost::json::parse(R"({"run_config": {"model": "${artifact_version}"}})"));
    CHECK(engine.automations().get(admin, wrapped.id) == wrapped);
    CHECK(create("none", "").action.get_if<action::LaunchJob>()->override.empty());
}
