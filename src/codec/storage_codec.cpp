#include "codec/storage_codec.hpp"
#include "json/json_reader.hpp"
#include "json/json_text.hpp"
#include "json/write_event.hpp"
#include "model/validate.hpp"

#include <herald/error.hpp>
#include <herald/event_json.hpp>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <stdexcept>

namespace herald::detail::codec {
namespace json = boost::json;
using detail::JsonWriter;
namespace {

// ---- enums by name ----

template <class Enum>
Enum enum_named(std::string_view name, std::size_t count) {
    for (std::size_t i = 0; i < count; ++i)
        if (to_string(static_cast<Enum>(i)) == name)
            return static_cast<Enum>(i);
    throw std::runtime_error("unknown name '" + std::string(name) + "'");
}

template <class Enum>
Enum enum_at(const json::object& o, std::string_view key, std::size_t count) {
    return enum_named<Enum>(o.at(key).as_string(), count);
}

// ---- small readers ----

std::string str(const json::object& o, std::string_view key) {
    return std::string(o.at(key).as_string());
}

std::int64_t int64(const json::object& o, std::string_view key) {
    return o.at(key).to_number<std::int64_t>();
}

Timestamp time_at(const json::object& o, std::string_view key) {
    return timestamp(int64(o, key));
}

std::vector<double> numbers_at(const json::object& o, std::string_view key) {
    std::vector<double> out;
    for (const auto& v : o.at(key).as_array())
        out.push_back(v.to_number<double>());
    return out;
}

// ---- firings ----

void put_attempt(JsonWriter& w, const DeliveryAttempt& a) {
    w.begin_object();
    w.key("number").integer(a.number);
    w.key("time").integer(nanos(a.time));
    w.key("status_code").integer(a.status_code);
    w.key("latency_ns").integer(a.latency.count());
    w.key("error").string(a.error);
    w.key("response_body").string(a.response_body);
    w.end_object();
}

DeliveryAttempt attempt_from(const json::object& o) {
    return {.number = static_cast<int>(int64(o, "number")),
            .time = time_at(o, "time"),
            .status_code = static_cast<int>(int64(o, "status_code")),
            .latency = std::chrono::nanoseconds{int64(o, "latency_ns")},
            .error = str(o, "error"),
            .response_body = str(o, "response_body")};
}

void put_metric(JsonWriter& w, const MetricObservation& m) {
    w.key("metric").begin_object();
    w.key("metric_name").string(m.metric_name);
    w.key("metric_value").number(m.metric_value);
    w.key("metric_values").begin_array();
    for (double v : m.metric_values)
        w.number(v);
    w.end_array();
    w.key("metric_condition").string(m.metric_condition);
    if (m.resolved)
        w.key("resolved").boolean(true);
    w.end_object();
}

MetricObservation metric_from(const json::object& o) {
    return {.metric_name = str(o, "metric_name"),
            .metric_value = o.at("metric_value").to_number<double>(),
            .metric_values = numbers_at(o, "metric_values"),
            .metric_condition = str(o, "metric_condition"),
            .resolved = o.contains("resolved") && o.at("resolved").as_bool()};
}

void put_firing(JsonWriter& w, const Firing& f) {
    w.begin_object();
    w.key("automation_name").string(f.automation_name);
    w.key("action").string(to_string(f.action));
    w.key("event");
    write_event(w, f.event);
    w.key("reason").string(f.reason);
    if (f.metric)
        put_metric(w, *f.metric);
    w.key("status").string(to_string(f.status));
    if (!f.payload.empty())
        w.key("payload").string(f.payload);
    if (!f.attempts.empty()) {
        w.key("attempts").begin_array();
        for (const DeliveryAttempt& a : f.attempts)
            put_attempt(w, a);
        w.end_array();
    }
    w.end_object();
}

void read_firing(const json::object& o, Firing& f, FiringFields fields) {
    f.automation_name = str(o, "automation_name");
    f.action = enum_at<ActionKind>(o, "action", 4);
    f.event = event_from_json(o.at("event"));
    f.reason = str(o, "reason");
    f.metric.reset();
    if (const json::value* m = o.if_contains("metric"))
        f.metric = metric_from(m->as_object());
    f.payload.clear();
    f.attempts.clear();
    if (fields == FiringFields::as_fired) {
        f.status = FiringStatus::pending;
        return;
    }
    f.status = enum_at<FiringStatus>(o, "status", 5);
    const json::value* payload = o.if_contains("payload");
    if (payload)
        f.payload = payload->as_string();
    if (const json::value* attempts = o.if_contains("attempts"))
        for (const auto& a : attempts->as_array())
            f.attempts.push_back(attempt_from(a.as_object()));
}

// ---- actions ----

void put_action(JsonWriter& w, const Action& action) {
    w.begin_object();
    w.key("type").string(to_string(action.kind()));
    std::visit(
        [&](const auto& spec) {
            using T = std::decay_t<decltype(spec)>;
            if constexpr (std::is_same_v<T, action::Webhook>) {
                w.key("integration").string(spec.integration);
                w.key("payload").string(spec.payload);
            } else if constexpr (std::is_same_v<T, action::SlackNotification>) {
                w.key("integration").string(spec.integration);
                w.key("title").string(spec.title);
                w.key("message").string(spec.message);
                w.key("severity").string(to_string(spec.severity));
            } else if constexpr (std::is_same_v<T, action::LaunchJob>) {
                w.key("queue").string(spec.queue);
                w.key("job").string(spec.job);
                w.key("job_version").string(spec.job_version);
                w.key("project").string(spec.project);
                w.key("override").string(spec.override);
            }
        },
        action.spec());
    w.end_object();
}

Action action_from(const json::object& o) {
    switch (enum_at<ActionKind>(o, "type", 4)) {
        case ActionKind::none:
            return action::None{};
        case ActionKind::webhook:
            return action::Webhook{.integration = str(o, "integration"),
                                   .payload = str(o, "payload")};
        case ActionKind::slack:
            return action::SlackNotification{.integration = str(o, "integration"),
                                             .title = str(o, "title"),
                                             .message = str(o, "message"),
                                             .severity = enum_at<Severity>(o, "severity", 3)};
        case ActionKind::launch_job:
            return action::LaunchJob{.queue = str(o, "queue"),
                                     .job = str(o, "job"),
                                     .job_version = str(o, "job_version"),
                                     .project = str(o, "project"),
                                     .override = str(o, "override")};
    }
    throw std::runtime_error("unknown action type");
}

// ---- integrations ----

json::object integration_json(const Integration& integration) {
    json::object o{{"kind", to_string(integration.kind())}};
    std::visit(
        [&](const auto& spec) {
            using T = std::decay_t<decltype(spec)>;
            o["entity"] = spec.entity;
            o["name"] = spec.name;
            o["enabled"] = spec.enabled;
            if constexpr (std::is_same_v<T, WebhookIntegration>) {
                o["url"] = spec.url;
                o["access_token"] = spec.access_token;
                o["signature"] = to_string(spec.signature);
                o["signing_secret"] = spec.signing_secret;
                json::array headers;
                for (const HttpHeaderField& h : spec.headers)
                    headers.push_back(json::object{{"name", h.name}, {"value", h.value}});
                o["headers"] = std::move(headers);
            } else {
                o["webhook_url_secret"] = spec.webhook_url_secret;
                o["bot_token"] = spec.bot_token;
                o["channel"] = spec.channel;
                o["api_base_url"] = spec.api_base_url;
            }
        },
        integration.spec());
    return o;
}

Integration integration_from(const json::object& o) {
    if (enum_at<IntegrationKind>(o, "kind", 2) == IntegrationKind::slack)
        return SlackIntegration{.entity = str(o, "entity"),
                                .name = str(o, "name"),
                                .webhook_url_secret = str(o, "webhook_url_secret"),
                                .bot_token = str(o, "bot_token"),
                                .channel = str(o, "channel"),
                                .api_base_url = str(o, "api_base_url"),
                                .enabled = o.at("enabled").as_bool()};
    WebhookIntegration w{.entity = str(o, "entity"),
                         .name = str(o, "name"),
                         .url = str(o, "url"),
                         .access_token = str(o, "access_token"),
                         .signature = enum_at<SignatureScheme>(o, "signature", 3),
                         .signing_secret = str(o, "signing_secret"),
                         .headers = {},
                         .enabled = o.at("enabled").as_bool()};
    for (const auto& h : o.at("headers").as_array())
        w.headers.push_back(
            {.name = str(h.as_object(), "name"), .value = str(h.as_object(), "value")});
    return w;
}

/// Parses a stored document; any malformation is a storage failure, not the caller's mistake.
template <class Decode>
auto decode(std::string_view text, Decode decode_object) {
    try {
        return decode_object(parse_json(text).as_object());
    } catch (const std::exception& e) {
        throw Error(errc::storage_failure, "",
                    std::string("a stored record is malformed: ") + e.what());
    }
}

}  // namespace

std::string firing_document(const Firing& firing) {
    validate(firing.event);
    std::string out;
    out.reserve(512);
    JsonWriter w(out);
    put_firing(w, firing);
    return out;
}

void read_firing_document(std::string_view text, Firing& firing, FiringFields fields) {
    decode(text, [&](const json::object& o) {
        read_firing(o, firing, fields);
        return 0;
    });
}

std::string action_to_json(const Action& action) {
    std::string out;
    JsonWriter w(out);
    put_action(w, action);
    return out;
}

Action action_from_json(std::string_view text) {
    return decode(text, action_from);
}

TriggerKind trigger_named(std::string_view name) {
    if (const auto kind = trigger_kind_from_string(name))
        return *kind;
    throw Error(errc::storage_failure, "",
                "a stored record is malformed: unknown trigger '" + std::string(name) + "'");
}

FiringStatus status_named(std::string_view name) {
    try {
        return enum_named<FiringStatus>(name, 5);
    } catch (const std::runtime_error&) {
        throw Error(errc::storage_failure, "",
                    "a stored record is malformed: unknown status '" + std::string(name) + "'");
    }
}

std::string integration_to_json(const Integration& integration) {
    return json::serialize(integration_json(integration));
}

Integration integration_from_json(std::string_view text) {
    return decode(text, integration_from);
}

}  // namespace herald::detail::codec
