#include "dispatch/outgoing_request.hpp"
#include "delivery/signature.hpp"

#include <herald/error.hpp>

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

using namespace herald::detail;

namespace {

const herald::Timestamp t0{std::chrono::seconds{1795305600}};

std::string header(const HttpRequest& r, std::string_view name) {
    for (const auto& [n, v] : r.headers)
        if (n == name)
            return v;
    return "<absent>";
}

struct Secrets {
    Secrets() {
        store.put("acme", "KEY", {.value = herald::SecretValue{"k3y"}});
        store.put("acme", "TOKEN", {.value = herald::SecretValue{"t0ken"}});
        store.put("acme", "HOOK", {.value = herald::SecretValue{"https://hooks.slack.test/T/B/x"}});
    }
    herald::MemorySecretStore store;
};

}  // namespace

TEST_CASE("a webhook request carries the delivery headers, token and signature", "[dispatch]") {
    Secrets s;
    herald::SecretResolver secrets{s.store, "acme", t0, "TOKEN"};
    const herald::WebhookIntegration integration{.entity = "acme",
                                                 .name = "deploy",
                                                 .url = "https://ci.example/hook",
                                                 .access_token = "TOKEN",
                                                 .signature = herald::SignatureScheme::github,
                                                 .signing_secret = "KEY",
                                                 .headers = {{"X-Team", "ml"}}};
    const HttpRequest r =
        webhook_request(integration, "{}", {.delivery_id = "d-1", .number = 3, .now = t0}, secrets);
    CHECK(r.url.buffer() == "https://ci.example/hook");
    CHECK(r.body == "{}");
    CHECK(header(r, "Content-Type") == "application/json");
    CHECK(header(r, "X-Herald-Delivery") == "d-1");
    CHECK(header(r, "X-Herald-Attempt") == "3");
    CHECK(header(r, "X-Herald-Timestamp") == "1795305600");
    CHECK(header(r, "Authorization") == "Bearer t0ken");
    CHECK(header(r, "X-Hub-Signature-256") == github_signature("{}", "k3y"));
    CHECK(header(r, "X-Team") == "ml");
    CHECK(secrets.redact("echo t0ken") == "echo ********");
}

TEST_CASE("an unsigned webhook without token has neither header", "[dispatch]") {
    Secrets s;
    herald::SecretResolver secrets{s.store, "acme", t0};
    const HttpRequest r =
        webhook_request({.entity = "acme", .name = "x", .url = "http://a.example/"}, "{}",
                        {.delivery_id = "d", .now = t0}, secrets);
    CHECK(header(r, "Authorization") == "<absent>");
    CHECK(header(r, "X-Wandb-Signature") == "<absent>");
}

TEST_CASE("a missing signing secret is an error naming it", "[dispatch]") {
    Secrets s;
    herald::SecretResolver secrets{s.store, "acme", t0};
    try {
        webhook_request(
            {.entity = "acme", .name = "x", .url = "http://a.example/", .signing_secret = "NOPE"},
            "{}", {.delivery_id = "d", .now = t0}, secrets);
        FAIL("no error");
    } catch (const herald::Error& e) {
        CHECK(e.code() == herald::errc::not_found);
        CHECK(std::string(e.what()).find("NOPE") != std::string::npos);
    }
}

TEST_CASE("Slack goes to the incoming webhook or to chat.postMessage", "[dispatch]") {
    Secrets s;
    herald::SecretResolver secrets{s.store, "acme", t0};
    const HttpRequest hook =
        slack_request({.entity = "acme", .name = "s", .webhook_url_secret = "HOOK"}, "{}",
                      {.delivery_id = "d", .now = t0}, secrets);
    CHECK(hook.url.buffer() == "https://hooks.slack.test/T/B/x");
    CHECK(header(hook, "Authorization") == "<absent>");
    const HttpRequest api = slack_request({.entity = "acme",
                                           .name = "s",
                                           .bot_token = "TOKEN",
                                           .channel = "#ml",
                                           .api_base_url = "https://slack.test/api/"},
                                          "{}", {.delivery_id = "d", .now = t0}, secrets);
    CHECK(api.url.buffer() == "https://slack.test/api/chat.postMessage");
    CHECK(header(api, "Authorization") == "Bearer t0ken");
}

TEST_CASE("the Block Kit message shows title, severity, scope, user, event and link, escaped",
          "[dispatch]") {
    herald::Firing f;
    f.automation_name = "deploy-prod";
    f.reason = "alias 'production' added";
    f.event.author = "grace";
    f.event.entity = "acme";
    f.event.project = "reg";
    const herald::action::SlackNotification action{.severity = herald::Severity::error};
    const auto message = boost::json::parse(
        slack_message(action, f, "Model <ready>", "a & b", "https://x.example/v3", "#ml"));
    CHECK(message.at("channel") == "#ml");
    const auto& blocks = message.at("blocks").as_array();
    CHECK(blocks.at(0).at("text").at("text") == "Model <ready>");  // plain_text: no markup
    CHECK(blocks.at(1).at("text").at("text") == "a &amp; b");
    const auto& fields = blocks.at(2).at("fields").as_array();
    CHECK(fields.at(0).at("text") == "*Severity*\n:rotating_light: ERROR");
    CHECK(fields.at(1).at("text") == "*Project*\nacme/reg");
    CHECK(fields.at(2).at("text") == "*Triggered by*\ngrace");
    CHECK(fields.at(3).at("text") == "*Automation*\ndeploy-prod");
    CHECK(blocks.at(3).at("elements").at(0).at("text") == "alias 'production' added");
    CHECK(blocks.at(4).at("elements").at(0).at("url") == "https://x.example/v3");

    const auto no_link = boost::json::parse(slack_message(action, f, "t", "", "", ""));
    CHECK_FALSE(no_link.as_object().contains("channel"));
    CHECK(no_link.at("blocks").as_array().size() == 3);
}

TEST_CASE("Slack API replies: ok, errors, transient errors", "[dispatch]") {
    CHECK(slack_api_error(R"({"ok": true})").empty());
    CHECK(slack_api_error("ok").empty());
    CHECK(slack_api_error(R"({"ok": false, "error": "channel_not_found"})") == "channel_not_found");
    CHECK(slack_api_error(R"({"ok": false})") == "unknown_error");
    CHECK(slack_error_is_transient("ratelimited"));
    CHECK(slack_error_is_transient("internal_error"));
    CHECK_FALSE(slack_error_is_transient("channel_not_found"));
    CHECK_FALSE(slack_error_is_transient("invalid_auth"));
}

TEST_CASE("cutting keeps UTF-8 sequences whole", "[dispatch]") {
    CHECK(cut_utf8("abc", 5) == "abc");
    CHECK(cut_utf8("abcdef", 3) == "abc");
    CHECK(cut_utf8("a\xC3\xA9z", 2) == "a");
    CHECK(cut_utf8("a\xC3\xA9z", 3) == "a\xC3\xA9");
}
