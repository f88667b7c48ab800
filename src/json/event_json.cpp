#include "json/enum_names.hpp"
#include "json/json_reader.hpp"
#include "json/json_text.hpp"
#include "json/write_event.hpp"

#include <herald/error.hpp>
#include <herald/event_json.hpp>

#include <boost/json/value.hpp>

#include <cmath>
#include <limits>
#include <optional>
#include <type_traits>
#include <utility>

namespace herald {
namespace json = boost::json;
using detail::enum_of;
using detail::JsonWriter;
using detail::name_of;
using detail::NameTable;
using detail::ObjectReader;
using detail::run_state_names;

namespace {

constexpr NameTable<EventKind, event_kind_count> event_type_names{
    {{EventKind::artifact_created, "ARTIFACT_CREATED"},
     {EventKind::artifact_linked, "ARTIFACT_LINKED"},
     {EventKind::artifact_unlinked, "ARTIFACT_UNLINKED"},
     {EventKind::alias_added, "ALIAS_ADDED"},
     {EventKind::alias_removed, "ALIAS_REMOVED"},
     {EventKind::tag_added, "TAG_ADDED"},
     {EventKind::tag_removed, "TAG_REMOVED"},
     {EventKind::run_metrics_logged, "RUN_METRICS_LOGGED"},
     {EventKind::run_state_changed, "RUN_STATE_CHANGED"}}};

std::string optional_string(ObjectReader& r, std::string_view key) {
    return r.has(key) ? r.string(key) : std::string();
}

std::vector<std::string> optional_strings(ObjectReader& r, std::string_view key) {
    return r.has(key) ? r.strings(key) : std::vector<std::string>();
}

ArtifactVersion read_version(ObjectReader r) {
    ArtifactVersion v;
    v.collection = r.string("collection");
    v.collection_type = optional_string(r, "collection_type");
    v.index = r.non_negative_integer("index");
    v.id = optional_string(r, "id");
    v.uri = optional_string(r, "uri");
    v.aliases = optional_strings(r, "aliases");
    v.tags = optional_strings(r, "tags");
    if (r.has("metadata")) {
        const json::value& metadata = r.value("metadata");
        if (!metadata.is_object())
            r.fail("metadata", "must be a JSON object");
        v.metadata = metadata.get_object();
    }
    r.finish();
    return v;
}

SourceVersion read_source(ObjectReader r) {
    SourceVersion s;
    s.entity = r.string("entity");
    s.project = r.string("project");
    s.collection = r.string("collection");
    s.index = r.non_negative_integer("index");
    r.finish();
    return s;
}

Run read_run(ObjectReader r) {
    Run run;
    run.id = r.string("id");
    run.name = optional_string(r, "name");
    run.user = optional_string(r, "user");
    r.finish();
    return run;
}

/// A metric value: a number, or "NaN", "Infinity", "-Infinity" (JSON has no such numbers; a
/// host may log them, and herald ignores them when evaluating). nullopt for anything else.
std::optional<double> metric_value(const json::value& v) {
    if (v.is_number())
        return v.to_number<double>();
    if (!v.is_string())
        return std::nullopt;
    const json::string& s = v.get_string();
    if (s == "NaN")
        return std::numeric_limits<double>::quiet_NaN();
    if (s == "Infinity")
        return std::numeric_limits<double>::infinity();
    if (s == "-Infinity")
        return -std::numeric_limits<double>::infinity();
    return std::nullopt;
}

constexpr std::string_view not_a_metric_value =
    "must be a number (or \"NaN\", \"Infinity\", \"-Infinity\")";

/// `metrics` as an array of {"name", "value"} (what `to_json` writes: it keeps the order and
/// repeats of one call) or as an object of metric name to number (shorter to write by hand).
std::vector<MetricPoint> read_metrics(ObjectReader& parent) {
    const json::value& value = parent.value("metrics");
    std::vector<MetricPoint> points;
    if (value.is_array() && !value.get_array().empty()) {
        const json::array& items = value.get_array();
        for (std::size_t i = 0; i < items.size(); ++i) {
            ObjectReader point(items[i], parent.field("metrics") + "[" + std::to_string(i) + "]");
            std::string name = point.string("name");
            const std::optional<double> number = metric_value(point.value("value"));
            if (!number)
                point.fail("value", std::string(not_a_metric_value));
            point.finish();
            points.push_back({.name = std::move(name), .value = *number});
        }
        return points;
    }
    if (!value.is_object() || value.get_object().empty())
        parent.fail("metrics",
                    "must be a non-empty array of {\"name\", \"value\"} or object of metric name "
                    "to number");
    for (const auto& [name, v] : value.get_object()) {
        const std::optional<double> number = metric_value(v);
        if (!number)
            parent.fail("metrics." + std::string(name), std::string(not_a_metric_value));
        points.push_back({.name = std::string(name), .value = *number});
    }
    return points;
}

EventBody read_body(EventKind kind, ObjectReader& r) {
    switch (kind) {
        case EventKind::artifact_created:
            return ArtifactCreated{.version = read_version(r.object("version"))};
        case EventKind::artifact_linked:
            return ArtifactLinked{.version = read_version(r.object("version")),
                                  .source = read_source(r.object("source"))};
        case EventKind::artifact_unlinked:
            return ArtifactUnlinked{.version = read_version(r.object("version")),
                                    .source = read_source(r.object("source"))};
        case EventKind::alias_added:
            return AliasAdded{.version = read_version(r.object("version")),
                              .alias = r.string("alias")};
        case EventKind::alias_removed:
            return AliasRemoved{.version = read_version(r.object("version")),
                                .alias = r.string("alias")};
        case EventKind::tag_added:
            return TagAdded{.version = read_version(r.object("version")), .tag = r.string("tag")};
        case EventKind::tag_removed:
            return TagRemoved{.version = read_version(r.object("version")), .tag = r.string("tag")};
        case EventKind::run_metrics_logged:
            return RunMetricsLogged{.run = read_run(r.object("run")),
                                    .step = r.non_negative_integer("step"),
                                    .metrics = read_metrics(r)};
        case EventKind::run_state_changed:
            return RunStateChanged{.run = read_run(r.object("run")),
                                   .state = enum_of(run_state_names, r, "state")};
    }
    return {};
}

// ---- export ----

void put_if_set(JsonWriter& w, std::string_view key, const std::string& value) {
    if (!value.empty())
        w.key(key).string(value);
}

void put_strings(JsonWriter& w, std::string_view key, const std::vector<std::string>& items) {
    if (items.empty())
        return;
    w.key(key).begin_array();
    for (const std::string& item : items)
        w.string(item);
    w.end_array();
}

void put_version(JsonWriter& w, const ArtifactVersion& v) {
    w.key("version").begin_object();
    w.key("collection").string(v.collection);
    put_if_set(w, "collection_type", v.collection_type);
    w.key("index").integer(v.index);
    put_if_set(w, "id", v.id);
    put_if_set(w, "uri", v.uri);
    put_strings(w, "aliases", v.aliases);
    put_strings(w, "tags", v.tags);
    if (!v.metadata.empty())
        w.key("metadata").value(v.metadata);
    w.end_object();
}

void put_source(JsonWriter& w, const SourceVersion& s) {
    w.key("source").begin_object();
    w.key("entity").string(s.entity);
    w.key("project").string(s.project);
    w.key("collection").string(s.collection);
    w.key("index").integer(s.index);
    w.end_object();
}

void put_run(JsonWriter& w, const Run& run) {
    w.key("run").begin_object();
    w.key("id").string(run.id);
    put_if_set(w, "name", run.name);
    put_if_set(w, "user", run.user);
    w.end_object();
}

/// JSON has no NaN or infinity: such a metric value is written as a string.
void put_metric_value(JsonWriter& w, double value) {
    if (std::isnan(value))
        w.string("NaN");
    else if (std::isinf(value))
        w.string(value > 0 ? "Infinity" : "-Infinity");
    else
        w.number(value);
}

void put_body(JsonWriter& w, const EventBody& body) {
    std::visit(
        [&](const auto& b) {
            using T = std::decay_t<decltype(b)>;
            if constexpr (std::is_same_v<T, RunMetricsLogged>) {
                put_run(w, b.run);
                w.key("step").integer(b.step);
                w.key("metrics").begin_array();
                for (const MetricPoint& p : b.metrics) {
                    w.begin_object().key("name").string(p.name).key("value");
                    put_metric_value(w, p.value);
                    w.end_object();
                }
                w.end_array();
            } else if constexpr (std::is_same_v<T, RunStateChanged>) {
                put_run(w, b.run);
                w.key("state").string(name_of(run_state_names, b.state));
            } else {
                put_version(w, b.version);
                if constexpr (requires { b.source; })
                    put_source(w, b.source);
                if constexpr (requires { b.alias; })
                    w.key("alias").string(b.alias);
                if constexpr (requires { b.tag; })
                    w.key("tag").string(b.tag);
            }
        },
        body);
}

}  // namespace

std::string_view event_type_name(EventKind kind) noexcept {
    return name_of(event_type_names, kind);
}

Event event_from_json(const json::value& value) {
    ObjectReader r(value, "");
    Event e;
    const EventKind kind = enum_of(event_type_names, r, "type");
    e.id = optional_string(r, "id");
    if (r.has("time"))
        e.time = r.timestamp("time");
    e.author = optional_string(r, "author");
    e.entity = r.string("entity");
    e.project = r.string("project");
    e.body = read_body(kind, r);
    r.finish();
    return e;
}

Event event_from_json(std::string_view text) {
    return event_from_json(detail::parse_json(text));
}

namespace detail {

void write_event(JsonWriter& w, const Event& e) {
    w.begin_object();
    w.key("type").string(event_type_name(e.kind()));
    put_if_set(w, "id", e.id);
    if (e.time != Timestamp{})
        w.key("time").string(format_rfc3339(e.time));
    put_if_set(w, "author", e.author);
    w.key("entity").string(e.entity);
    w.key("project").string(e.project);
    put_body(w, e.body);
    w.end_object();
}

}  // namespace detail

json::value to_json_value(const Event& e) {
    return detail::parse_json(to_json(e));
}

std::string to_json(const Event& e) {
    std::string out;
    detail::JsonWriter w(out);
    detail::write_event(w, e);
    return out;
}

}  // namespace herald
