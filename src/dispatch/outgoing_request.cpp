#include "dispatch/outgoing_request.hpp"

#include "delivery/signature.hpp"

#include <herald/error.hpp>
#include <herald/trigger.hpp>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <chrono>

namespace herald::detail {
namespace {

boost::urls::url parse_url(std::string_view text, std::string_view field) {
    auto parsed = boost::urls::parse_absolute_uri(text);
    if (!parsed)
        throw Error(errc::invalid_argument, std::string(field), "not an absolute URL");
    return boost::urls::url(*parsed);
}

std::int64_t unix_seconds(Timestamp t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

void add_delivery_headers(HttpRequest& request, const AttemptInfo& attempt) {
    request.headers.emplace_back("Content-Type", "application/json");
    request.headers.emplace_back(delivery_id_header, attempt.delivery_id);
    request.headers.emplace_back(attempt_header, std::to_string(attempt.number));
    request.headers.emplace_back(timestamp_header, std::to_string(unix_seconds(attempt.now)));
}

void add_signature(HttpRequest& request, const WebhookIntegration& integration,
                   const AttemptInfo& attempt, SecretResolver& secrets) {
    if (integration.signing_secret.empty())
        return;
    switch (integration.signature) {
        case SignatureScheme::wandb:
            request.headers.emplace_back(
                "X-Wandb-Signature",
                wandb_signature(request.body, secrets.value(integration.signing_secret).reveal()));
            return;
        case SignatureScheme::github:
            request.headers.emplace_back(
                "X-Hub-Signature-256",
                github_signature(request.body, secrets.value(integration.signing_secret).reveal()));
            return;
        case SignatureScheme::standard: {
            std::vector<std::string> keys;
            for (std::string_view secret : secrets.signing_keys(integration.signing_secret)) {
                auto key = decode_standard_secret(secret);
                if (!key)
                    throw Error(errc::invalid_argument, "integration.signing_secret",
                                "secret '" + integration.signing_secret +
                                    "' is not a Standard Webhooks secret (whsec_ + base64)");
                keys.push_back(std::move(*key));
            }
            const std::int64_t timestamp = unix_seconds(attempt.now);
            request.headers.emplace_back("webhook-id", attempt.delivery_id);
            request.headers.emplace_back("webhook-timestamp", std::to_string(timestamp));
            request.headers.emplace_back(
                "webhook-signature",
                standard_signature(attempt.delivery_id, timestamp, request.body, keys));
            return;
        }
    }
}

void add_bearer(HttpRequest& request, std::string_view token) {
    std::string value = "Bearer ";
    value += token;
    request.headers.emplace_back("Authorization", std::move(value));
}

/// Slack's limits, in characters: a header's plain_text, a section's text, a field's text.
constexpr std::size_t header_limit = 150;
constexpr std::size_t section_limit = 3000;
constexpr std::size_t field_limit = 2000;

/// One character of `text` at `at` as it goes into a Slack text: its UTF-8 sequence, or its
/// mrkdwn escape (`&amp;`, `&lt;`, `&gt;`) when `escape` is set; with the characters Slack
/// counts for it (UTF-16 units, so a character beyond the BMP counts twice).
struct SlackChar {
    std::string_view bytes;
    std::size_t source_size = 1;
    std::size_t units = 1;
};

SlackChar slack_char(std::string_view text, std::size_t at, bool escape) noexcept {
    const auto lead = static_cast<unsigned char>(text[at]);
    if (escape && lead == '&')
        return {"&amp;", 1, 5};
    if (escape && lead == '<')
        return {"&lt;", 1, 4};
    if (escape && lead == '>')
        return {"&gt;", 1, 4};
    const std::size_t n = std::min<std::size_t>(lead >= 0xF0   ? 4
                                                : lead >= 0xE0 ? 3
                                                : lead >= 0xC0 ? 2
                                                               : 1,
                                                text.size() - at);
    return {text.substr(at, n), n, n == 4 ? 2u : 1u};
}

/// Appends `text` to `out`, escaped for mrkdwn when `escape` is set (so `<!channel>` or
/// `<@U123>` in event data cannot mention anyone), cut to `limit` characters: a cut text ends
/// with "…" within the limit, and never splits a UTF-8 sequence or an escape.
void append_slack_text(std::string& out, std::string_view text, std::size_t limit, bool escape) {
    std::size_t total = 0;
    for (std::size_t i = 0; i < text.size();) {
        const SlackChar c = slack_char(text, i, escape);
        total += c.units;
        i += c.source_size;
    }
    const bool cut = total > limit;
    const std::size_t budget = cut ? limit - 1 : limit;
    std::size_t used = 0;
    for (std::size_t i = 0; i < text.size();) {
        const SlackChar c = slack_char(text, i, escape);
        if (used + c.units > budget)
            break;
        out += c.bytes;
        used += c.units;
        i += c.source_size;
    }
    if (cut)
        out += "\u2026";
}

std::string slack_text(std::string_view text, std::size_t limit, bool escape = true) {
    std::string out;
    out.reserve(std::min(text.size(), limit) + 8);
    append_slack_text(out, text, limit, escape);
    return out;
}

/// Whether Slack would take `text` as empty (it refuses an empty or blank plain_text).
bool blank(std::string_view text) noexcept {
    return text.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

std::string_view severity_marker(Severity severity) noexcept {
    switch (severity) {
        case Severity::info:
            return ":information_source:";
        case Severity::warn:
            return ":warning:";
        case Severity::error:
            return ":rotating_light:";
    }
    return "";
}

boost::json::object mrkdwn(std::string text) {
    return {{"type", "mrkdwn"}, {"text", std::move(text)}};
}

std::string field(std::string_view label, std::string_view value) {
    std::string text = "*";
    text += label;
    text += "*\n";
    append_slack_text(text, value, field_limit - text.size(), true);
    return text;
}

}  // namespace

std::string_view cut_utf8(std::string_view text, std::size_t limit) noexcept {
    if (text.size() <= limit)
        return text;
    std::size_t end = limit;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80)
        --end;
    return text.substr(0, end);
}

HttpRequest webhook_request(const WebhookIntegration& integration, std::string body,
                            const AttemptInfo& attempt, SecretResolver& secrets) {
    HttpRequest request{.url = parse_url(integration.url, "integration.url"),
                        .headers = {},
                        .body = std::move(body)};
    add_delivery_headers(request, attempt);
    if (!integration.access_token.empty())
        add_bearer(request, secrets.value("ACCESS_TOKEN").reveal());
    add_signature(request, integration, attempt, secrets);
    for (const HttpHeaderField& h : integration.headers)
        request.headers.emplace_back(h.name, h.value);
    return request;
}

std::string slack_message(const action::SlackNotification& action, const Firing& firing,
                          std::string_view title, std::string_view message, std::string_view link,
                          std::string_view channel) {
    const Event& e = firing.event;
    std::string where = e.entity;
    if (!e.project.empty())
        where += "/" + e.project;
    std::string severity(severity_marker(action.severity));
    severity += ' ';
    severity += to_string(action.severity);

    boost::json::array blocks;
    if (!blank(title))
        blocks.push_back(
            {{"type", "header"},
             {"text", {{"type", "plain_text"}, {"text", slack_text(title, header_limit, false)}}}});
    if (!blank(message))
        blocks.push_back(
            {{"type", "section"}, {"text", mrkdwn(slack_text(message, section_limit))}});
    blocks.push_back({{"type", "section"},
                      {"fields",
                       {mrkdwn(field("Severity", severity)), mrkdwn(field("Project", where)),
                        mrkdwn(field("Triggered by", e.author)),
                        mrkdwn(field("Automation", firing.automation_name))}}});
    blocks.push_back(
        {{"type", "context"}, {"elements", {mrkdwn(slack_text(firing.reason, section_limit))}}});
    if (!link.empty()) {
        boost::json::object button{{"type", "button"},
                                   {"text", {{"type", "plain_text"}, {"text", "Open"}}},
                                   {"url", link}};
        boost::json::array elements;
        elements.push_back(std::move(button));
        blocks.push_back({{"type", "actions"}, {"elements", std::move(elements)}});
    }

    boost::json::object out;
    if (!channel.empty())
        out["channel"] = channel;
    // The notification text: Slack reads mrkdwn in it too, so it is escaped like the blocks.
    std::string fallback(severity);
    fallback += ": ";
    append_slack_text(fallback, blank(title) ? message : title, section_limit, true);
    out["text"] = fallback;
    out["blocks"] = std::move(blocks);
    return boost::json::serialize(out);
}

HttpRequest slack_request(const SlackIntegration& integration, std::string body,
                          const AttemptInfo& attempt, SecretResolver& secrets) {
    HttpRequest request;
    request.body = std::move(body);
    if (!integration.webhook_url_secret.empty()) {
        request.url = parse_url(secrets.value(integration.webhook_url_secret).reveal(),
                                "integration.webhook_url_secret");
    } else {
        std::string url = integration.api_base_url;
        while (!url.empty() && url.back() == '/')
            url.pop_back();
        request.url = parse_url(url + "/chat.postMessage", "integration.api_base_url");
    }
    add_delivery_headers(request, attempt);
    if (!integration.bot_token.empty())
        add_bearer(request, secrets.value(integration.bot_token).reveal());
    return request;
}

std::string slack_api_error(std::string_view body) {
    boost::system::error_code ec;
    const boost::json::value reply = boost::json::parse(body, ec);
    if (ec || !reply.is_object())
        return {};
    const boost::json::object& object = reply.get_object();
    const boost::json::value* ok = object.if_contains("ok");
    if (!ok || !ok->is_bool() || ok->get_bool())
        return {};
    const boost::json::value* error = object.if_contains("error");
    if (error && error->is_string())
        return std::string(error->get_string());
    return "unknown_error";
}

bool slack_error_is_transient(std::string_view error) noexcept {
    static constexpr std::string_view transient[] = {"ratelimited",         "rate_limited",
                                                     "internal_error",      "fatal_error",
                                                     "service_unavailable", "request_timeout"};
    return std::find(std::begin(transient), std::end(transient), error) != std::end(transient);
}

}  // namespace herald::detail
