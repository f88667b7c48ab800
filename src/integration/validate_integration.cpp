#include "integration/validate_integration.hpp"
#include "delivery/request_target.hpp"
#include "template/variables.hpp"

#include <herald/error.hpp>

#include <boost/url/parse.hpp>

#include <algorithm>
#include <cctype>
#include <set>

namespace herald::detail {
namespace {

constexpr std::size_t max_url_length = 8192;
constexpr std::size_t max_header_value_length = 8192;

[[noreturn]] void fail(std::string field, std::string reason) {
    throw Error(errc::invalid_argument, "integration." + field, std::move(reason));
}

bool is_word_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

void validate_name(const std::string& name) {
    if (name.empty() || name.size() > max_integration_name_length)
        fail("name", "must be 1 to 64 characters");
    for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        if (is_word_char(c) || c == '-')
            continue;
        if (c != ' ')
            fail("name", "may hold only letters, digits, '_', '-' and single spaces");
        if (i == 0 || i + 1 == name.size() || name[i + 1] == ' ')
            fail("name", "spaces must be single and between words");
    }
}

void validate_entity(const std::string& entity) {
    if (entity.empty())
        fail("entity", "must not be empty");
    if (entity.find('\0') != std::string::npos)
        fail("entity", "must not contain NUL");
}

void validate_url(const std::string& url, const char* field) {
    if (url.empty())
        fail(field, "must not be empty");
    if (url.size() > max_url_length)
        fail(field, "must be at most 8192 characters");
    auto parsed = boost::urls::parse_absolute_uri(url);
    if (!parsed)
        fail(field, "is not an absolute URL: " + parsed.error().message());
    const auto scheme = parsed->scheme_id();
    if (scheme != boost::urls::scheme::http && scheme != boost::urls::scheme::https)
        fail(field, "must use http or https");
    if (parsed->encoded_host().empty())
        fail(field, "must name a host");
    if (parsed->has_userinfo())
        fail(field, "must not hold user info; keep credentials in a secret");
    if (!parse_target(*parsed))
        fail(field,
             "must have a port from 1 to 65535, and a host that is a name or an address "
             "(not an IPv4 address followed by more, as in 10.0.0.1.nip.io)");
}

void validate_secret_name(const std::string& name, const char* field, bool required) {
    if (name.empty()) {
        if (required)
            fail(field, "must name a secret");
        return;
    }
    if (!is_secret_name(name))
        fail(field, "a secret name holds only letters, digits and '_'");
}

bool is_token_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

void validate_headers(const std::vector<HttpHeaderField>& headers) {
    std::set<std::string> seen;
    for (std::size_t i = 0; i < headers.size(); ++i) {
        const std::string field = "headers[" + std::to_string(i) + "]";
        const HttpHeaderField& h = headers[i];
        if (h.name.empty() || !std::all_of(h.name.begin(), h.name.end(), is_token_char))
            fail(field + ".name", "is not a valid header name");
        if (reserved_header(h.name))
            fail(field + ".name", "'" + h.name + "' is set by herald and cannot be overridden");
        std::string lower = h.name;
        std::transform(lower.begin(), lower.end(), lower.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (!seen.insert(lower).second)
            fail(field + ".name", "'" + h.name + "' is given twice");
        if (h.value.size() > max_header_value_length)
            fail(field + ".value", "must be at most 8192 characters");
        const bool clean = std::all_of(h.value.begin(), h.value.end(), [](char c) {
            const auto u = static_cast<unsigned char>(c);
            return u == '\t' || (u >= 0x20 && u != 0x7F);
        });
        if (!clean)
            fail(field + ".value", "must not contain control characters (CR, LF, NUL, ...)");
    }
}

void validate_webhook(const WebhookIntegration& w) {
    validate_url(w.url, "url");
    validate_secret_name(w.access_token, "access_token", false);
    validate_secret_name(w.signing_secret, "signing_secret", false);
    validate_headers(w.headers);
}

void validate_slack(const SlackIntegration& s) {
    if (s.webhook_url_secret.empty() == s.bot_token.empty())
        fail("webhook_url_secret",
             "set either an incoming-webhook URL secret or a bot token (with a channel), not both");
    validate_secret_name(s.webhook_url_secret, "webhook_url_secret", false);
    validate_secret_name(s.bot_token, "bot_token", false);
    if (!s.bot_token.empty() && s.channel.empty())
        fail("channel", "a bot token needs a channel");
    if (!s.webhook_url_secret.empty() && !s.channel.empty())
        fail("channel", "an incoming webhook posts to its own channel; leave channel empty");
    if (s.channel.find_first_of(std::string_view("\0\r\n", 3)) != std::string::npos)
        fail("channel", "must not contain control characters");
    validate_url(s.api_base_url, "api_base_url");
}

}  // namespace

void validate(const Integration& integration) {
    validate_entity(integration.entity());
    validate_name(integration.name());
    if (const auto* webhook = integration.get_if<WebhookIntegration>())
        validate_webhook(*webhook);
    else
        validate_slack(*integration.get_if<SlackIntegration>());
}

}  // namespace herald::detail
