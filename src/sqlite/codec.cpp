#include "sqlite/codec.hpp"

#include <herald/error.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <stdexcept>

namespace herald::detail::sqlite {
namespace json = boost::json;
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

json::array string_array(const std::vector<std::string>& items) {
    json::array out;
    for (const auto& s : items)
        out.emplace_back(s);
    return out;
}

std::vector<std::string> strings_at(const json::object& o, std::string_view key) {
    std::vector<std::string> out;
    for (const auto& v : o.at(key).as_array())
        out.emplace_back(v.as_string());
    return out;
}

json::array number_array(const std::vector<double>& items) {
    json::array out;
    for (double d : items)
        out.emplace_back(d);
    return out;
}

std::vector<double> numbers_at(const json::object& o, std::string_view key) {
    std::vector<double> out;
    for (const auto& v : o.at(key).as_array())
        out.push_back(v.to_number<double>());
    return out;
}

// ---- events ----

json::object version_json(const ArtifactVersion& v) {
    return {{"collection", v.collection},
            {"collection_type", v.collection_type},
            {"index", v.index},
            {"id", v.id},
            {"uri", v.uri},
            {"aliases", string_array(v.aliases)},
            {"tags", string_array(v.tags)},
            {"metadata", v.metadata}};
}

ArtifactVersion version_from(const json::object& o) {
    return {.collection = str(o, "collection"),
            .collection_type = str(o, "collection_type"),
            .index = int64(o, "index"),
            .id = str(o, "id"),
            .uri = str(o, "uri"),
            .aliases = strings_at(o, "aliases"),
            .tags = strings_at(o, "tags"),
            .metadata = o.at("metadata").as_object()};
}

json::object source_json(const SourceVersion& s) {
    return {{"entity", s.entity},
            {"project", s.project},
            {"collection", s.collection},
            {"index", s.index}};
}

SourceVersion source_from(const json::object& o) {
    return {.entity = str(o, "entity"),
            .project = str(o, "project"),
            .collection = str(o, "collection"),
            .index = int64(o, "index")};
}

json::object run_json(const Run& r) {
    return {{"id", r.id}, {"name", r.name}, {"user", r.user}};
}

Run run_from(const json::object& o) {
    return {.id = str(o, "id"), .name = str(o, "name"), .user = str(o, "user")};
}

json::object body_json(const EventBody& body) {
    json::object o;
    std::visit(
        [&](const auto& b) {
            using T = std::decay_t<decltype(b)>;
            if constexpr (std::is_same_v<T, RunMetricsLogged>) {
                o["run"] = run_json(b.run);
                o["step"] = b.step;
                json::array metrics;
                for (const MetricPoint& p : b.metrics)
                    metrics.push_back(json::object{{"name", p.name}, {"value", p.value}});
                o["metrics"] = std::move(metrics);
            } else if constexpr (std::is_same_v<T, RunStateChanged>) {
                o["run"] = run_json(b.run);
                o["state"] = to_string(b.state);
            } else {
                o["version"] = version_json(b.version);
                if constexpr (std::is_same_v<T, ArtifactLinked> ||
                              std::is_same_v<T, ArtifactUnlinked>)
                    o["source"] = source_json(b.source);
                if constexpr (std::is_same_v<T, AliasAdded> || std::is_same_v<T, AliasRemoved>)
                    o["alias"] = b.alias;
                if constexpr (std::is_same_v<T, TagAdded> || std::is_same_v<T, TagRemoved>)
                    o["tag"] = b.tag;
            }
        },
        body);
    return o;
}

template <class T>
T versioned_body_from(const json::object& o) {
    T b;
    b.version = version_from(o.at("version").as_object());
    if constexpr (std::is_same_v<T, ArtifactLinked> || std::is_same_v<T, ArtifactUnlinked>)
        b.source = source_from(o.at("source").as_object());
    if constexpr (std::is_same_v<T, AliasAdded> || std::is_same_v<T, AliasRemoved>)
        b.alias = str(o, "alias");
    if constexpr (std::is_same_v<T, TagAdded> || std::is_same_v<T, TagRemoved>)
        b.tag = str(o, "tag");
    return b;
}

EventBody body_from(EventKind kind, const json::object& o) {
    switch (kind) {
        case EventKind::artifact_created:
            return versioned_body_from<ArtifactCreated>(o);
        case EventKind::artifact_linked:
            return versioned_body_from<ArtifactLinked>(o);
        case EventKind::artifact_unlinked:
            return versioned_body_from<ArtifactUnlinked>(o);
        case EventKind::alias_added:
            return versioned_body_from<AliasAdded>(o);
        case EventKind::alias_removed:
            return versioned_body_from<AliasRemoved>(o);
        case EventKind::tag_added:
            return versioned_body_from<TagAdded>(o);
        case EventKind::tag_removed:
            return versioned_body_from<TagRemoved>(o);
        case EventKind::run_metrics_logged: {
            RunMetricsLogged b{.run = run_from(o.at("run").as_object()), .step = int64(o, "step")};
            for (const auto& m : o.at("metrics").as_array())
                b.metrics.push_back({.name = str(m.as_object(), "name"),
                                     .value = m.as_object().at("value").to_number<double>()});
            return b;
        }
        case EventKind::run_state_changed:
            return RunStateChanged{.run = run_from(o.at("run").as_object()),
                                   .state = enum_at<RunState>(o, "state", 5)};
    }
    throw std::runtime_error("unknown event kind");
}

json::object event_json(const Event& e) {
    return {{"id", e.id},
            {"time", nanos(e.time)},
            {"author", e.author},
            {"entity", e.entity},
            {"project", e.project},
            {"kind", to_string(e.kind())},
            {"body", body_json(e.body)}};
}

Event event_from(const json::object& o) {
    const auto kind = enum_at<EventKind>(o, "kind", event_kind_count);
    return {.id = str(o, "id"),
            .time = time_at(o, "time"),
            .author = str(o, "author"),
            .entity = str(o, "entity"),
            .project = str(o, "project"),
            .body = body_from(kind, o.at("body").as_object())};
}

// ---- firings ----

json::object attempt_json(const DeliveryAttempt& a) {
    return {{"number", a.number},
            {"time", nanos(a.time)},
            {"status_code", a.status_code},
            {"latency_ns", a.latency.count()},
            {"error", a.error},
            {"response_body", a.response_body}};
}

DeliveryAttempt attempt_from(const json::object& o) {
    return {.number = static_cast<int>(int64(o, "number")),
            .time = time_at(o, "time"),
            .status_code = static_cast<int>(int64(o, "status_code")),
            .latency = std::chrono::nanoseconds{int64(o, "latency_ns")},
            .error = str(o, "error"),
            .response_body = str(o, "response_body")};
}

json::object metric_json(const MetricObservation& m) {
    return {{"metric_name", m.metric_name},
            {"metric_value", m.metric_value},
            {"metric_values", number_array(m.metric_values)},
            {"metric_condition", m.metric_condition}};
}

MetricObservation metric_from(const json::object& o) {
    return {.metric_name = str(o, "metric_name"),
            .metric_value = o.at("metric_value").to_number<double>(),
            .metric_values = numbers_at(o, "metric_values"),
            .metric_condition = str(o, "metric_condition")};
}

json::object firing_json(const Firing& f) {
    json::array attempts;
    for (const DeliveryAttempt& a : f.attempts)
        attempts.push_back(attempt_json(a));
    json::object o{{"id", f.id},
                   {"automation_id", f.automation_id},
                   {"automation_name", f.automation_name},
                   {"action", to_string(f.action)},
                   {"event", event_json(f.event)},
                   {"time", nanos(f.time)},
                   {"reason", f.reason},
                   {"status", to_string(f.status)},
                   {"integration", f.integration},
                   {"payload", f.payload},
                   {"attempts", std::move(attempts)}};
    if (f.metric)
        o["metric"] = metric_json(*f.metric);
    return o;
}

Firing firing_from(const json::object& o) {
    Firing f{.id = str(o, "id"),
             .automation_id = str(o, "automation_id"),
             .automation_name = str(o, "automation_name"),
             .action = enum_at<ActionKind>(o, "action", 4),
             .event = event_from(o.at("event").as_object()),
             .time = time_at(o, "time"),
             .reason = str(o, "reason"),
             .metric = std::nullopt,
             .status = enum_at<FiringStatus>(o, "status", 5),
             .integration = str(o, "integration"),
             .payload = str(o, "payload"),
             .attempts = {}};
    if (const json::value* m = o.if_contains("metric"))
        f.metric = metric_from(m->as_object());
    for (const auto& a : o.at("attempts").as_array())
        f.attempts.push_back(attempt_from(a.as_object()));
    return f;
}

// ---- actions ----

json::object action_json(const Action& action) {
    json::object o{{"type", to_string(action.kind())}};
    std::visit(
        [&](const auto& spec) {
            using T = std::decay_t<decltype(spec)>;
            if constexpr (std::is_same_v<T, action::Webhook>) {
                o["integration"] = spec.integration;
                o["payload"] = spec.payload;
            } else if constexpr (std::is_same_v<T, action::SlackNotification>) {
                o["integration"] = spec.integration;
                o["title"] = spec.title;
                o["message"] = spec.message;
                o["severity"] = to_string(spec.severity);
            } else if constexpr (std::is_same_v<T, action::LaunchJob>) {
                o["queue"] = spec.queue;
                o["job"] = spec.job;
                o["job_version"] = spec.job_version;
                o["project"] = spec.project;
                o["override"] = spec.override;
            }
        },
        action.spec());
    return o;
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
        return decode_object(json::parse(text).as_object());
    } catch (const std::exception& e) {
        throw Error(errc::storage_failure, "",
                    std::string("a stored record is malformed: ") + e.what());
    }
}

}  // namespace

std::string firing_to_json(const Firing& firing) {
    return json::serialize(firing_json(firing));
}

Firing firing_from_json(std::string_view text) {
    return decode(text, firing_from);
}

std::string delivery_to_json(const Delivery& delivery) {
    return json::serialize(json::object{{"firing", firing_json(delivery.firing)},
                                        {"action", action_json(delivery.action)},
                                        {"trigger", to_string(delivery.trigger)}});
}

void delivery_from_json(std::string_view text, Delivery& delivery) {
    decode(text, [&](const json::object& o) {
        delivery.firing = firing_from(o.at("firing").as_object());
        delivery.action = action_from(o.at("action").as_object());
        delivery.trigger = enum_at<TriggerKind>(o, "trigger", trigger_kind_count);
        return 0;
    });
}

std::string integration_to_json(const Integration& integration) {
    return json::serialize(integration_json(integration));
}

Integration integration_from_json(std::string_view text) {
    return decode(text, integration_from);
}

}  // namespace herald::detail::sqlite
