#include <herald/error.hpp>
#include <herald/integration_json.hpp>

#include <catch2/catch.hpp>

using namespace herald;

TEST_CASE("integration JSON: webhook and Slack round-trip", "[integration_json]") {
    const Integration webhook = WebhookIntegration{.entity = "acme",
                                                   .name = "deploy",
                                                   .url = "https://ci.example.com/hooks",
                                                   .access_token = "GH_TOKEN",
                                                   .signature = SignatureScheme::github,
                                                   .signing_secret = "KEY",
                                                   .headers = {{"X-Env", "prod"}},
                                                   .enabled = false};
    const Integration slack = SlackIntegration{.entity = "acme",
                                               .name = "ml alerts",
                                               .bot_token = "SLACK_BOT",
                                               .channel = "#ml",
                                               .api_base_url = "http://127.0.0.1:9/api"};
    CHECK(integration_from_json(to_json(webhook)) == webhook);
    CHECK(integration_from_json(to_json(slack)) == slack);
    const auto both = integrations_from_json("[" + to_json(webhook) + "," + to_json(slack) + "]");
    CHECK(both == std::vector<Integration>{webhook, slack});
}

TEST_CASE("integration JSON: errors name the field", "[integration_json]") {
    const auto field_of = [](std::string_view text) {
        try {
            integrations_from_json(text);
        } catch (const Error& e) {
            return e.field() + ": " + e.reason();
        }
        return std::string("no error");
    };
    CHECK(field_of(R"({"type": "WEBHOOK", "entity": "acme", "name": "x"})") == "url: is required");
    CHECK(field_of(R"([{"type": "SLACK", "entity": "acme", "name": "x", "bot_token": "T",
                        "channel": "#c"}, {"type": "FAX", "entity": "a", "name": "y"}])")
              .starts_with("[1].type: unknown value 'FAX'"));
    CHECK(field_of(R"({"type": "WEBHOOK", "entity": "acme", "name": "x", "url": "https://a.b",
                       "headers": {"X-A": 1}})") == "headers.X-A: must be a string");
    CHECK(field_of(R"({"type": "WEBHOOK", "entity": "acme", "name": "x", "url": "https://a.b",
                       "signature": "md5"})")
              .starts_with("signature: unknown value 'md5'"));
    CHECK(field_of(R"({"type": "WEBHOOK", "entity": "acme", "name": "x", "url": "ftp://a.b"})")
              .starts_with("integration.url"));
}
