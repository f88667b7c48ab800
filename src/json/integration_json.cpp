#include "integration/validate_integration.hpp"
#include "json/enum_names.hpp"
#include "json/json_reader.hpp"
#include "util/error_path.hpp"

#include <herald/error.hpp>
#include <herald/integration_json.hpp>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <utility>

namespace herald {
namespace json = boost::json;
using detail::enum_if_present;
using detail::enum_of;
using detail::name_of;
using detail::NameTable;
using detail::ObjectReader;

namespace {

constexpr NameTable<IntegrationKind, 2> kind_names{
    {{IntegrationKind::webhook, "WEBHOOK"}, {IntegrationKind::slack, "SLACK"}}};
constexpr NameTable<SignatureScheme, 3> signature_names{{{SignatureScheme::wandb, "WANDB"},
                                                         {SignatureScheme::standard, "STANDARD"},
                                                         {SignatureScheme::github, "GITHUB"}}};

void read_if_present(ObjectReader& r, std::string_view key, std::string& out) {
    if (r.has(key))
        out = r.string(key);
}

void read_if_present(ObjectReader& r, std::string_view key, bool& out) {
    if (r.has(key))
        out = r.boolean(key);
}

std::vector<HttpHeaderField> read_headers(ObjectReader& r) {
    std::vector<HttpHeaderField> headers;
    if (!r.has("headers"))
        return headers;
    const json::value& value = r.value("headers");
    if (!value.is_object())
        r.fail("headers", "must be an object of header name to value");
    for (const auto& [name, v] : value.get_object()) {
        if (!v.is_string())
            r.fail("headers." + std::string(name), "must be a string");
        headers.push_back({.name = std::string(name), .value = std::string(v.get_string())});
    }
    return headers;
}

WebhookIntegration read_webhook(ObjectReader& r) {
    WebhookIntegration w;
    w.url = r.string("url");
    read_if_present(r, "access_token", w.access_token);
    enum_if_present(signature_names, r, "signature", w.signature);
    read_if_present(r, "signing_secret", w.signing_secret);
    w.headers = read_headers(r);
    return w;
}

SlackIntegration read_slack(ObjectReader& r) {
    SlackIntegration s;
    read_if_present(r, "webhook_url_secret", s.webhook_url_secret);
    read_if_present(r, "bot_token", s.bot_token);
    read_if_present(r, "channel", s.channel);
    read_if_present(r, "api_base_url", s.api_base_url);
    return s;
}

template <class Spec>
Integration with_common_fields(Spec spec, ObjectReader& r) {
    spec.entity = r.string("entity");
    spec.name = r.string("name");
    read_if_present(r, "enabled", spec.enabled);
    return spec;
}

json::object headers_json(const std::vector<HttpHeaderField>& headers) {
    json::object o;
    for (const HttpHeaderField& h : headers)
        o[h.name] = h.value;
    return o;
}

}  // namespace

Integration integration_from_json(const json::value& value) {
    ObjectReader r(value, "");
    Integration integration;
    switch (enum_of(kind_names, r, "type")) {
        case IntegrationKind::webhook:
            integration = with_common_fields(read_webhook(r), r);
            break;
        case IntegrationKind::slack:
            integration = with_common_fields(read_slack(r), r);
            break;
    }
    r.finish();
    detail::validate(integration);
    return integration;
}

Integration integration_from_json(std::string_view text) {
    return integration_from_json(detail::parse_json(text));
}

std::vector<Integration> integrations_from_json(std::string_view text) {
    const json::value value = detail::parse_json(text);
    if (!value.is_array())
        return {integration_from_json(value)};
    std::vector<Integration> out;
    const auto& items = value.get_array();
    for (std::size_t i = 0; i < items.size(); ++i)
        out.push_back(detail::within_element(i, [&] { return integration_from_json(items[i]); }));
    return out;
}

json::value to_json_value(const Integration& integration) {
    json::object o;
    o["type"] = name_of(kind_names, integration.kind());
    o["entity"] = integration.entity();
    o["name"] = integration.name();
    if (const auto* w = integration.get_if<WebhookIntegration>()) {
        o["url"] = w->url;
        if (!w->access_token.empty())
            o["access_token"] = w->access_token;
        o["signature"] = name_of(signature_names, w->signature);
        if (!w->signing_secret.empty())
            o["signing_secret"] = w->signing_secret;
        if (!w->headers.empty())
            o["headers"] = headers_json(w->headers);
    } else if (const auto* s = integration.get_if<SlackIntegration>()) {
        if (!s->webhook_url_secret.empty())
            o["webhook_url_secret"] = s->webhook_url_secret;
        if (!s->bot_token.empty())
            o["bot_token"] = s->bot_token;
        if (!s->channel.empty())
            o["channel"] = s->channel;
        o["api_base_url"] = s->api_base_url;
    }
    o["enabled"] = integration.enabled();
    return o;
}

std::string to_json(const Integration& integration) {
    return json::serialize(to_json_value(integration));
}

}  // namespace herald
