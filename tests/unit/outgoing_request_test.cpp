#include "dispatch/outgoing_request.hpp"
#include "delivery/signature.hpp"

#include <herald/error.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
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

/// A firing of acme/reg as a Slack message shows it.
herald::Firing slack_firing(std::string automation, std::string reason, std::string author) {
    herald::Firing f;
    f.automation_name = std::move(automation);
    f.reason = std::move(reason);
    f.event.author = std::move(author);
    f.event.entity = "acme";
    f.event.project = "reg";
    return f;
}

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
    const herald::Firing f = slack_firing("deploy-prod", "alias 'production' added", "grace");
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

TEST_CASE("Slack messages: no empty header, event data escaped everywhere it is mrkdwn",
          "[dispatch]") {
    const herald::Firing f =
        slack_firing("<!here> deploy", "alias '<!channel>' added", "<@U024BE7LH>");
    const herald::action::SlackNotification action;

    for (const char* title : {"", " \n "}) {
        const auto message =
            boost::json::parse(slack_message(action, f, title, "model <!channel> & co", "", ""));
        const auto& blocks = message.at("blocks").as_array();
        CHECK(blocks.at(0).at("type") == "section");  // no header block
        CHECK(blocks.at(0).at("text").at("text") == "model &lt;!channel&gt; &amp; co");
        // The notification text falls back on the message, escaped too.
        CHECK(message.at("text") == ":information_source: INFO: model &lt;!channel&gt; &amp; co");
    }
    const auto message = boost::json::parse(slack_message(action, f, "<!channel> v3", "", "", ""));
    CHECK(message.at("text") == ":information_source: INFO: &lt;!channel&gt; v3");
    boost::json::array blocks = message.at("blocks").as_array();
    CHECK(blocks.at(0).at("text").at("type") == "plain_text");  // Slack shows it as text
    CHECK(blocks.at(0).at("text").at("text") == "<!channel> v3");
    blocks.erase(blocks.begin());
    const std::string all = boost::json::serialize(blocks);
    CHECK(all.find("<!") == std::string::npos);
    CHECK(all.find("<@") == std::string::npos);
    CHECK(all.find("&lt;@U024BE7LH&gt;") != std::string::npos);
    CHECK(all.find("alias '&lt;!channel&gt;' added") != std::string::npos);
}

/// The characters Slack counts in `text`: UTF-16 units.
std::size_t slack_length(std::string_view text) {
    std::size_t units = 0;
    for (unsigned char c : text)
        units += (c & 0xC0) != 0x80 ? (c >= 0xF0 ? 2 : 1) : 0;
    return units;
}

TEST_CASE("Slack texts are cut to Slack's limits, whole characters and escapes, marked",
          "[dispatch]") {
    herald::Firing f;
    f.event.entity = "acme";
    const herald::action::SlackNotification action;
    std::string long_title;
    for (int i = 0; i < 100; ++i)
        long_title += "\xC3\xA9\xF0\x9F\x9A\x80";  // é, then a rocket: 1 + 2 units
    std::string long_message(2998, 'x');
    long_message += "&&&";  // 2998 + 15 escaped > 3000: the cut falls before an escape

    const auto message =
        boost::json::parse(slack_message(action, f, long_title, long_message, "", ""));
    const auto& blocks = message.at("blocks").as_array();
    const std::string header(blocks.at(0).at("text").at("text").as_string());
    CHECK(slack_length(header) <= 150);
    CHECK(slack_length(header) >= 148);
    CHECK(header.ends_with("\xE2\x80\xA6"));  // …
    CHECK(header.starts_with("\xC3\xA9\xF0\x9F\x9A\x80"));
    const std::string section(blocks.at(1).at("text").at("text").as_string());
    CHECK(section == std::string(2998, 'x') + "\xE2\x80\xA6");
    CHECK(slack_length(section) == 2999);
    CHECK(message.at("text").as_string() == ":information_source: INFO: " + long_title);

    // At the limit exactly: nothing is cut.
    const auto exact =
        boost::json::parse(slack_message(action, f, std::string(150, 't'), "", "", ""));
    CHECK(exact.at("blocks").at(0).at("text").at("text").as_string() == std::string(150, 't'));
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
