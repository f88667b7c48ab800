#include "json/enum_names.hpp"
#include "json/json_reader.hpp"

#include <herald/error.hpp>
#include <herald/event_json.hpp>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <type_traits>
#include <utility>

namespace herald {
namespace json = boost::json;
using detail::enum_of;
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

std::vector<MetricPoint> read_metrics(ObjectReader& parent) {
    const json::value& value = parent.value("metrics");
    if (!value.is_object() || value.get_object().empty())
        parent.fail("metrics", "must be a non-empty object of metric name to number");
    std::vector<MetricPoint> points;
    for (const auto& [name, number] : value.get_object()) {
        if (!number.is_number())
            parent.fail("metrics." + std::string(name), "must be a number");
        points.push_back({.name = std::string(name), .value = number.to_number<double>()});
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

void put_if_set(json::object& o, std::string_view key, const std::string& value) {
    if (!value.empty())
        o[key] = value;
}

json::array string_array(const std::vector<std::string>& items) {
    json::array a;
    for (const std::string& s : items)
        a.emplace_back(s);
    return a;
}

json::object version_json(const ArtifactVersion& v) {
    json::object o;
    o["collection"] = v.collection;
    put_if_set(o, "collection_type", v.collection_type);
    o["index"] = v.index;
    put_if_set(o, "id", v.id);
    put_if_set(o, "uri", v.uri);
    if (!v.aliases.empty())
        o["aliases"] = string_array(v.aliases);
    if (!v.tags.empty())
        o["tags"] = string_array(v.tags);
    if (!v.metadata.empty())
        o["metadata"] = v.metadata;
    return o;
}

json::object source_json(const SourceVersion& s) {
    return {{"entity", s.entity},
            {"project", s.project},
            {"collection", s.collection},
            {"index", s.index}};
}

json::object run_json(const Run& run) {
    json::object o;
    o["id"] = run.id;
    put_if_set(o, "name", run.name);
    put_if_set(o, "user", run.user);
    return o;
}

void put_body(json::object& o, const EventBody& body) {
    std::visit(
        [&](const auto& b) {
            using T = std::decay_t<decltype(b)>;
            if constexpr (std::is_same_v<T, RunMetricsLogged>) {
                o["run"] = run_json(b.run);
                o["step"] = b.step;
                json::object metrics;
                for (const MetricPoint& p : b.metrics)
                    metrics[p.name] = p.value;
                o["metrics"] = std::move(metrics);
            } else if constexpr (std::is_same_v<T, RunStateChanged>) {
                o["run"] = run_json(b.run);
                o["state"] = name_of(run_state_names, b.state);
            } else {
                o["version"] = version_json(b.version);
                if constexpr (requires { b.source; })
                    o["source"] = source_json(b.source);
                if constexpr (requires { b.alias; })
                    o["alias"] = b.alias;
                if constexpr (requires { b.tag; })
                    o["tag"] = b.tag;
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

json::value to_json_value(const Event& e) {
    json::object o;
    o["type"] = event_type_name(e.kind());
    put_if_set(o, "id", e.id);
    if (e.time != Timestamp{})
        o["time"] = format_rfc3339(e.time);
    put_if_set(o, "author", e.author);
    o["entity"] = e.entity;
    o["project"] = e.project;
    put_body(o, e.body);
    return o;
}

std::string to_json(const Event& e) {
    return json::serialize(to_json_value(e));
}

}  // namespace herald
