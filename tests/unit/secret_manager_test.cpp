// Engine::secrets(): admin-only management, name and value rules, rotation, references, and
// the canary test — a secret value never leaves herald except in the request it is sent in.
#include "support/error_of.hpp"
#include "support/event_builders.hpp"

#include <herald/automation_json.hpp>
#include <herald/engine.hpp>
#include <herald/error.hpp>
#include <herald/template.hpp>

#include <catch2/catch.hpp>

#include <functional>
#include <string>
#include <vector>

using namespace herald;

namespace {

const Principal admin = test::admin_of("acme");
using test::error_of;

Automation alias_webhook(std::string name, std::string payload, std::string integration) {
    return {.name = std::move(name),
            .scope = Scope::for_registry("acme", "model-registry"),
            .trigger = trigger::AddArtifactAlias{.alias = Pattern{"production"}},
            .action = action::Webhook{.integration = std::move(integration),
                                      .payload = std::move(payload)}};
}

}  // namespace

TEST_CASE("only entity admins manage secrets", "[secrets]") {
    Engine engine;
    engine.secrets().put(admin, "acme", "TOKEN", "v");
    const std::vector<Principal> others = {
        {.user = "writer", .roles = {Role::project_writer("acme", "model-registry")}},
        {.user = "member", .roles = {Role::entity_member("acme")}},
        {.user = "stranger", .roles = {Role::entity_admin("globex")}},
        {.user = "nobody"},
    };
    for (const Principal& who : others) {
        INFO(who.user);
        const auto denied = [](const Error& e) { return e.code() == errc::permission_denied; };
        CHECK(denied(error_of([&] { engine.secrets().put(who, "acme", "OTHER", "v"); })));
        CHECK(denied(error_of([&] { engine.secrets().rotate(who, "acme", "TOKEN", "w"); })));
        CHECK(denied(error_of([&] { engine.secrets().remove(who, "acme", "TOKEN", true); })));
        CHECK(denied(error_of([&] { engine.secrets().list(who, "acme"); })));
    }
    CHECK(engine.secrets().list(admin, "acme") == std::vector<std::string>{"TOKEN"});
}

TEST_CASE("secret names and values are checked", "[secrets]") {
    Engine engine;
    for (const char* bad :
         {"", "has-dash", "has space", "dot.ted", "ACCESS_TOKEN", "event_author", "run_status"}) {
        INFO(bad);
        const Error e = error_of([&] { engine.secrets().put(admin, "acme", bad, "v"); });
        CHECK(e.code() == errc::invalid_argument);
        CHECK(e.field() == "name");
    }
    CHECK(error_of([&] {
              engine.secrets().put(admin, "acme", std::string(129, 'A'), "v");
          }).field() == "name");
    engine.secrets().put(admin, "acme", std::string(128, 'A'), "v");
    engine.secrets().put(admin, "acme", "Mixed_Case_9", "v");

    for (const std::string& bad : {std::string(), std::string("line\nbreak"), std::string("cr\r"),
                                   std::string("nul\0x", 5), std::string(65537, 'x')}) {
        const Error e = error_of([&] { engine.secrets().put(admin, "acme", "VALUE_TEST", bad); });
        CHECK(e.code() == errc::invalid_argument);
        CHECK(e.field() == "value");
    }
    CHECK(error_of([&] { engine.secrets().put(admin, "acme", "Mixed_Case_9", "again"); }).code() ==
          errc::already_exists);
    CHECK(error_of([&] { engine.secrets().rotate(admin, "acme", "MISSING", "v"); }).code() ==
          errc::not_found);
    CHECK(error_of([&] { engine.secrets().remove(admin, "acme", "MISSING"); }).code() ==
          errc::not_found);
}

TEST_CASE("rotation replaces the value and may keep the previous one for signing", "[secrets]") {
    auto clock = std::make_shared<ManualClock>(Timestamp{std::chrono::hours{100}});
    auto store = std::make_shared<MemorySecretStore>();
    Engine engine{{.clock = clock, .secrets = store}};
    engine.secrets().put(admin, "acme", "SIGNING", "first");
    engine.secrets().rotate(admin, "acme", "SIGNING", "second", std::chrono::hours{24});
    {
        SecretResolver r{*store, "acme", clock->now() + std::chrono::hours{23}};
        CHECK(r.signing_keys("SIGNING") == std::vector<std::string_view>{"second", "first"});
    }
    {
        SecretResolver r{*store, "acme", clock->now() + std::chrono::hours{24}};
        CHECK(r.signing_keys("SIGNING") == std::vector<std::string_view>{"second"});
    }
    engine.secrets().rotate(admin, "acme", "SIGNING", "third");
    SecretResolver r{*store, "acme", clock->now()};
    CHECK(r.signing_keys("SIGNING") == std::vector<std::string_view>{"third"});
    CHECK(error_of([&] {
              engine.secrets().rotate(admin, "acme", "SIGNING", "x", std::chrono::seconds{-1});
          }).field() == "keep_previous");
}

TEST_CASE("a referenced secret is deleted only with force, the error lists the referrers",
          "[secrets]") {
    Engine engine;
    engine.secrets().put(admin, "acme", "GH_TOKEN", "t");
    engine.secrets().put(admin, "acme", "EXTRA", "e");
    engine.integrations().create(admin, WebhookIntegration{.entity = "acme",
                                                           .name = "deploy",
                                                           .url = "https://ci.example.com/hook",
                                                           .access_token = "GH_TOKEN"});
    const Automation a = engine.automations().create(
        admin, alias_webhook("notify", R"({"x": "${EXTRA}", "t": "${ACCESS_TOKEN}"})", "deploy"));

    const Error token = error_of([&] { engine.secrets().remove(admin, "acme", "GH_TOKEN"); });
    CHECK(token.code() == errc::in_use);
    CHECK_THAT(token.reason(), Catch::Contains("integration 'deploy'"));
    const Error extra = error_of([&] { engine.secrets().remove(admin, "acme", "EXTRA"); });
    CHECK(extra.code() == errc::in_use);
    CHECK_THAT(extra.reason(), Catch::Contains("automation 'notify' (id " + a.id + ")"));
    CHECK(engine.secrets().list(admin, "acme").size() == 2);

    engine.secrets().remove(admin, "acme", "EXTRA", true);
    CHECK(engine.secrets().list(admin, "acme") == std::vector<std::string>{"GH_TOKEN"});
    // The automation stays; changing it now needs the secret again.
    const Error update = error_of([&] { engine.automations().update(admin, a.id, a); });
    CHECK(update.field() == "action.payload");
    CHECK_THAT(update.reason(), Catch::Contains("${EXTRA}"));
}

TEST_CASE("canary: a secret value appears nowhere herald records or reports", "[secrets][canary]") {
    const std::string canary = "canary-5b1f0c7e-94d2-4a8e-b3f6-0d1e2c3b4a59";
    auto store = std::make_shared<MemorySecretStore>();
    Engine engine{{.secrets = store}};
    std::string produced;  // everything herald gave back, except the request body it sends
    const auto capture = [&](const std::function<void()>& call) {
        try {
            call();
        } catch (const std::exception& e) {
            produced += e.what();
            produced += '\n';
        }
    };

    engine.secrets().put(admin, "acme", "CANARY", canary);
    // Failing calls that carry the value: a duplicate put, a bad value, a denied rotation.
    capture([&] { engine.secrets().put(admin, "acme", "CANARY", canary); });
    capture([&] { engine.secrets().rotate(admin, "acme", "CANARY", canary + "\n"); });
    capture([&] { engine.secrets().rotate(test::admin_of("globex"), "acme", "CANARY", canary); });
    engine.secrets().rotate(admin, "acme", "CANARY", canary, std::chrono::hours{1});

    engine.integrations().create(admin, WebhookIntegration{.entity = "acme",
                                                           .name = "deploy",
                                                           .url = "https://ci.example.com/hook",
                                                           .access_token = "CANARY",
                                                           .signing_secret = "CANARY"});
    const Automation a = engine.automations().create(
        admin, alias_webhook("ship", R"({"token": "${CANARY}", "auth": "Bearer ${ACCESS_TOKEN}",
                                       "by": "${event_author}"})",
                             "deploy"));
    // Validation errors of templates that use the secret.
    capture([&] {
        engine.automations().create(
            admin,
            alias_webhook("broken", R"({"t": "${CANARY}", "r": "${run_status}"})", "deploy"));
    });
    capture([&] {
        engine.automations().create(admin,
                                    alias_webhook("bad-json", R"({"t": "${CANARY}",})", "deploy"));
    });
    capture([&] { engine.secrets().remove(admin, "acme", "CANARY"); });
    capture([&] { engine.integrations().remove(admin, "acme", "deploy"); });

    // A firing, its history record and the masked rendering the dispatcher stores.
    const PublishReceipt receipt =
        engine.publish(test::alias_added("acme", "model-registry", "classifier", "production"));
    REQUIRE(receipt.firings.size() == 1);
    const Firing& firing = receipt.firings.front();
    const Template payload = Template::compile(a.action.get_if<action::Webhook>()->payload,
                                               {.trigger = a.trigger.kind(), .access_token = true});
    produced += payload.render_masked(firing);

    // What is sent holds the value; a receiver echoing it back is redacted.
    SecretResolver resolver{*store, "acme", Timestamp{}, "CANARY"};
    const std::string sent = payload.render(firing, resolver);
    REQUIRE(sent.find(canary) != std::string::npos);
    produced += resolver.redact("echo: " + sent);

    // A secret deleted (with force) between firing and sending.
    engine.secrets().put(admin, "acme", "SHORT_LIVED", canary);
    const Template uses_short_lived =
        Template::compile(R"({"s": "${SHORT_LIVED}"})", {.trigger = a.trigger.kind()});
    engine.secrets().remove(admin, "acme", "SHORT_LIVED", true);
    capture([&] {
        SecretResolver late{*store, "acme", Timestamp{}};
        uses_short_lived.render(firing, late);
    });

    for (const Firing& f : engine.history().by_automation(a.id))
        produced += f.reason + f.payload + f.automation_name + f.event.author;
    for (const Automation& listed :
         engine.automations().list(admin, Scope::for_registry("acme", "model-registry")))
        produced += to_json(listed);
    for (const Integration& i : engine.integrations().list(admin, "acme"))
        for (const std::string& name : i.secret_names())
            produced += name;
    for (const std::string& name : engine.secrets().list(admin, "acme"))
        produced += name;

    CHECK(produced.find("CANARY") != std::string::npos);  // the capture saw the secret's name
    CHECK(produced.find("********") != std::string::npos);
    const bool leaked = produced.find(canary) != std::string::npos;
    CHECK_FALSE(leaked);  // a bool, so a failure does not print the value either
}
