#include "json/enum_names.hpp"
#include "json/json_reader.hpp"
#include "model/validate.hpp"
#include "util/error_path.hpp"

#include <herald/automation_json.hpp>
#include <herald/error.hpp>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <utility>

namespace herald {
namespace json = boost::json;
using detail::enum_from;
using detail::enum_if_present;
using detail::enum_of;
using detail::name_of;
using detail::NameTable;
using detail::ObjectReader;
using detail::run_state_names;

namespace {

constexpr NameTable<ScopeKind, 4> scope_names{{{ScopeKind::entity, "ENTITY"},
                                               {ScopeKind::project, "PROJECT"},
                                               {ScopeKind::registry, "REGISTRY"},
                                               {ScopeKind::collection, "COLLECTION"}}};
constexpr NameTable<Aggregate, 3> aggregate_names{
    {{Aggregate::average, "AVERAGE"}, {Aggregate::min, "MIN"}, {Aggregate::max, "MAX"}}};
constexpr NameTable<Comparison, 6> comparison_names{{{Comparison::greater, ">"},
                                                     {Comparison::greater_equal, ">="},
                                                     {Comparison::less, "<"},
                                                     {Comparison::less_equal, "<="},
                                                     {Comparison::equal, "=="},
                                                     {Comparison::not_equal, "!="}}};
constexpr NameTable<ChangeMode, 2> change_mode_names{
    {{ChangeMode::relative, "RELATIVE"}, {ChangeMode::absolute, "ABSOLUTE"}}};
constexpr NameTable<ChangeDirection, 3> change_direction_names{
    {{ChangeDirection::increase, "INCREASE"},
     {ChangeDirection::decrease, "DECREASE"},
     {ChangeDirection::either, "EITHER"}}};
constexpr NameTable<ZScoreDirection, 3> zscore_direction_names{
    {{ZScoreDirection::above, "ABOVE"},
     {ZScoreDirection::below, "BELOW"},
     {ZScoreDirection::either, "EITHER"}}};
constexpr NameTable<ZScoreMode, 2> zscore_mode_names{
    {{ZScoreMode::within_run, "WITHIN_RUN"}, {ZScoreMode::across_runs, "ACROSS_RUNS"}}};
constexpr NameTable<ActionKind, 4> action_names{{{ActionKind::none, "NO_ACTION"},
                                                 {ActionKind::webhook, "WEBHOOK"},
                                                 {ActionKind::slack, "SLACK"},
                                                 {ActionKind::launch_job, "LAUNCH_JOB"}}};
constexpr NameTable<Severity, 3> severity_names{
    {{Severity::info, "INFO"}, {Severity::warn, "WARN"}, {Severity::error, "ERROR"}}};

std::optional<Pattern> optional_pattern(ObjectReader& r, std::string_view key) {
    if (!r.has(key))
        return std::nullopt;
    return r.pattern(key);
}

RunFilter read_run_filter(ObjectReader& r) {
    RunFilter filter;
    if (!r.has("run_filter"))
        return filter;
    ObjectReader f = r.object("run_filter");
    if (f.has("user"))
        filter.user = f.string("user");
    filter.name = optional_pattern(f, "name");
    f.finish();
    return filter;
}

std::chrono::seconds read_cooldown(ObjectReader& r) {
    if (!r.has("cooldown_seconds"))
        return default_cooldown;
    return std::chrono::seconds{r.non_negative_integer("cooldown_seconds")};
}

/// The optional pending period and hysteresis of a metric trigger; `recovery_key` names its
/// recovery bound ("recovery_threshold", or "recovery_amount" for a change trigger).
Hysteresis read_hysteresis(ObjectReader& r, std::string_view recovery_key) {
    Hysteresis h;
    if (r.has("pending_evaluations"))
        h.pending_evaluations = static_cast<std::size_t>(r.positive_integer("pending_evaluations"));
    if (r.has("pending_seconds"))
        h.pending_for = std::chrono::seconds{r.non_negative_integer("pending_seconds")};
    if (r.has(recovery_key))
        h.recovery = r.number(recovery_key);
    if (r.has("notify_resolved"))
        h.notify_resolved = r.boolean("notify_resolved");
    return h;
}

std::size_t window_or(ObjectReader& r, std::string_view key, std::size_t fallback) {
    if (!r.has(key))
        return fallback;
    return static_cast<std::size_t>(r.positive_integer(key));
}

Trigger read_trigger(ObjectReader r) {
    const std::string type = r.string("type");
    const auto kind = trigger_kind_from_string(type);
    if (!kind)
        r.fail("type", "unknown trigger type '" + type + "'");
    Trigger trigger;
    switch (*kind) {
        case TriggerKind::create_artifact: {
            trigger::CreateArtifact t;
            t.collection = optional_pattern(r, "collection");
            if (r.has("artifact_type"))
                t.artifact_type = r.string("artifact_type");
            trigger = std::move(t);
            break;
        }
        case TriggerKind::link_artifact:
            trigger = trigger::LinkArtifact{.alias = optional_pattern(r, "alias"),
                                            .tag = optional_pattern(r, "tag"),
                                            .collection = optional_pattern(r, "collection")};
            break;
        case TriggerKind::unlink_artifact:
            trigger = trigger::UnlinkArtifact{.collection = optional_pattern(r, "collection")};
            break;
        case TriggerKind::add_artifact_alias:
            trigger = trigger::AddArtifactAlias{.alias = r.pattern("alias"),
                                                .collection = optional_pattern(r, "collection")};
            break;
        case TriggerKind::add_artifact_tag:
            trigger = trigger::AddArtifactTag{.tag = optional_pattern(r, "tag"),
                                              .collection = optional_pattern(r, "collection")};
            break;
        case TriggerKind::remove_artifact_tag:
            trigger = trigger::RemoveArtifactTag{.tag = optional_pattern(r, "tag"),
                                                 .collection = optional_pattern(r, "collection")};
            break;
        case TriggerKind::run_metric_threshold: {
            trigger::MetricThreshold t;
            t.metric = r.string("metric");
            t.window = window_or(r, "window", t.window);
            enum_if_present(aggregate_names, r, "aggregate", t.aggregate);
            t.comparison = enum_of(comparison_names, r, "operator");
            t.threshold = r.number("threshold");
            t.runs = read_run_filter(r);
            t.cooldown = read_cooldown(r);
            t.hysteresis = read_hysteresis(r, "recovery_threshold");
            trigger = std::move(t);
            break;
        }
        case TriggerKind::run_metric_change: {
            trigger::MetricChange t;
            t.metric = r.string("metric");
            t.current_window = window_or(r, "current_window", t.current_window);
            t.prior_window = window_or(r, "prior_window", t.prior_window);
            enum_if_present(change_mode_names, r, "change_type", t.mode);
            enum_if_present(change_direction_names, r, "direction", t.direction);
            t.amount = r.number("amount");
            t.runs = read_run_filter(r);
            t.cooldown = read_cooldown(r);
            t.hysteresis = read_hysteresis(r, "recovery_amount");
            trigger = std::move(t);
            break;
        }
        case TriggerKind::run_metric_zscore: {
            trigger::MetricZScore t;
            t.metric = r.string("metric");
            t.window = window_or(r, "window", t.window);
            enum_if_present(zscore_direction_names, r, "direction", t.direction);
            enum_if_present(zscore_mode_names, r, "mode", t.mode);
            t.recent_runs = window_or(r, "recent_runs", t.recent_runs);
            if (r.has("threshold"))
                t.threshold = r.number("threshold");
            t.runs = read_run_filter(r);
            t.cooldown = read_cooldown(r);
            t.hysteresis = read_hysteresis(r, "recovery_threshold");
            t.hysteresis = read_hysteresis(r, "recovery_threshold");
            trigger = std::move(t);
            break;
        }
        case TriggerKind::run_state: {
            trigger::RunStateChange t;
            const std::vector<std::string> states = r.strings("states");
            for (std::size_t i = 0; i < states.size(); ++i)
                t.states.push_back(
                    enum_from(run_state_names, states[i], r, "states[" + std::to_string(i) + "]"));
            t.runs = read_run_filter(r);
            t.cooldown = read_cooldown(r);
            trigger = std::move(t);
            break;
        }
    }
    r.finish();
    return trigger;
}

Scope read_scope(ObjectReader r) {
    Scope scope;
    scope.kind = enum_of(scope_names, r, "type");
    scope.entity = r.string("entity");
    switch (scope.kind) {
        case ScopeKind::entity:
            break;
        case ScopeKind::registry:
            scope.project = r.string("registry");
            break;
        case ScopeKind::project:
            scope.project = r.string("project");
            break;
        case ScopeKind::collection:
            scope.project = r.string("project");
            scope.collection = r.string("collection");
            break;
    }
    r.finish();
    return scope;
}

Action read_action(ObjectReader r) {
    Action action;
    switch (enum_of(action_names, r, "type")) {
        case ActionKind::none:
            action = action::None{};
            break;
        case ActionKind::webhook:
            action = action::Webhook{.integration = r.string("integration"),
                                     .payload = r.has("payload") ? r.json_text("payload") : ""};
            break;
        case ActionKind::slack: {
            action::SlackNotification s;
            s.integration = r.string("integration");
            if (r.has("title"))
                s.title = r.string("title");
            if (r.has("message"))
                s.message = r.string("message");
            enum_if_present(severity_names, r, "severity", s.severity);
            action = std::move(s);
            break;
        }
        case ActionKind::launch_job: {
            action::LaunchJob j;
            j.queue = r.string("queue");
            j.job = r.string("job");
            if (r.has("job_version"))
                j.job_version = r.string("job_version");
            if (r.has("project"))
                j.project = r.string("project");
            if (r.has("override"))
                j.override = r.json_text("override");
            action = std::move(j);
            break;
        }
    }
    r.finish();
    return action;
}

// ---- export ----

json::object run_filter_json(const RunFilter& f) {
    json::object o;
    if (f.user)
        o["user"] = *f.user;
    if (f.name)
        o["name"] = f.name->source();
    return o;
}

template <class Spec>
void put_run_fields(json::object& o, const Spec& spec) {
    if (spec.runs.user || spec.runs.name)
        o["run_filter"] = run_filter_json(spec.runs);
    o["cooldown_seconds"] = spec.cooldown.count();
}

/// Writes only what differs from the plain trigger, so such a trigger's JSON is unchanged.
void put_hysteresis(json::object& o, const Hysteresis& h, std::string_view recovery_key) {
    if (h.pending_evaluations != Hysteresis{}.pending_evaluations)
        o["pending_evaluations"] = h.pending_evaluations;
    if (h.pending_for.count() != 0)
        o["pending_seconds"] = h.pending_for.count();
    if (h.recovery)
        o[recovery_key] = *h.recovery;
    if (h.notify_resolved)
        o["notify_resolved"] = true;
}

void put_pattern(json::object& o, std::string_view key, const std::optional<Pattern>& p) {
    if (p)
        o[key] = p->source();
}

json::object trigger_json(const Trigger& trigger) {
    json::object o;
    o["type"] = to_string(trigger.kind());
    std::visit(
        [&](const auto& spec) {
            using T = std::decay_t<decltype(spec)>;
            if constexpr (requires { spec.collection; })
                put_pattern(o, "collection", spec.collection);
            if constexpr (std::is_same_v<T, trigger::CreateArtifact>) {
                if (spec.artifact_type)
                    o["artifact_type"] = *spec.artifact_type;
            } else if constexpr (std::is_same_v<T, trigger::LinkArtifact>) {
                put_pattern(o, "alias", spec.alias);
                put_pattern(o, "tag", spec.tag);
            } else if constexpr (std::is_same_v<T, trigger::AddArtifactAlias>) {
                o["alias"] = spec.alias.source();
            } else if constexpr (std::is_same_v<T, trigger::AddArtifactTag> ||
                                 std::is_same_v<T, trigger::RemoveArtifactTag>) {
                put_pattern(o, "tag", spec.tag);
            } else if constexpr (std::is_same_v<T, trigger::MetricThreshold>) {
                o["metric"] = spec.metric;
                o["window"] = spec.window;
                o["aggregate"] = name_of(aggregate_names, spec.aggregate);
                o["operator"] = name_of(comparison_names, spec.comparison);
                o["threshold"] = spec.threshold;
                put_run_fields(o, spec);
                put_hysteresis(o, spec.hysteresis, "recovery_threshold");
            } else if constexpr (std::is_same_v<T, trigger::MetricChange>) {
                o["metric"] = spec.metric;
                o["current_window"] = spec.current_window;
                o["prior_window"] = spec.prior_window;
                o["change_type"] = name_of(change_mode_names, spec.mode);
                o["direction"] = name_of(change_direction_names, spec.direction);
                o["amount"] = spec.amount;
                put_run_fields(o, spec);
                put_hysteresis(o, spec.hysteresis, "recovery_amount");
            } else if constexpr (std::is_same_v<T, trigger::MetricZScore>) {
                o["metric"] = spec.metric;
                o["window"] = spec.window;
                o["direction"] = name_of(zscore_direction_names, spec.direction);
                if (spec.mode == ZScoreMode::across_runs) {
                    o["mode"] = name_of(zscore_mode_names, spec.mode);
                    o["recent_runs"] = spec.recent_runs;
                }
                o["threshold"] = spec.threshold;
                put_run_fields(o, spec);
                put_hysteresis(o, spec.hysteresis, "recovery_threshold");
            } else if constexpr (std::is_same_v<T, trigger::RunStateChange>) {
                json::array states;
                for (RunState s : spec.states)
                    states.emplace_back(name_of(run_state_names, s));
                o["states"] = std::move(states);
                put_run_fields(o, spec);
            }
        },
        trigger.spec());
    return o;
}

json::object scope_json(const Scope& scope) {
    json::object o;
    o["type"] = name_of(scope_names, scope.kind);
    o["entity"] = scope.entity;
    switch (scope.kind) {
        case ScopeKind::entity:
            break;
        case ScopeKind::registry:
            o["registry"] = scope.project;
            break;
        case ScopeKind::project:
            o["project"] = scope.project;
            break;
        case ScopeKind::collection:
            o["project"] = scope.project;
            o["collection"] = scope.collection;
            break;
    }
    return o;
}

json::object action_json(const Action& action) {
    json::object o;
    o["type"] = name_of(action_names, action.kind());
    std::visit(
        [&](const auto& spec) {
            using T = std::decay_t<decltype(spec)>;
            if constexpr (std::is_same_v<T, action::Webhook>) {
                o["integration"] = spec.integration;
                if (!spec.payload.empty())
                    o["payload"] = detail::parse_json(spec.payload);
            } else if constexpr (std::is_same_v<T, action::SlackNotification>) {
                o["integration"] = spec.integration;
                o["title"] = spec.title;
                o["message"] = spec.message;
                o["severity"] = name_of(severity_names, spec.severity);
            } else if constexpr (std::is_same_v<T, action::LaunchJob>) {
                o["queue"] = spec.queue;
                o["job"] = spec.job;
                if (!spec.job_version.empty())
                    o["job_version"] = spec.job_version;
                if (!spec.project.empty())
                    o["project"] = spec.project;
                if (!spec.override.empty())
                    o["override"] = detail::parse_json(spec.override);
            }
        },
        action.spec());
    return o;
}

}  // namespace

Automation automation_from_json(const json::value& value) {
    ObjectReader r(value, "");
    Automation a;
    if (r.has("id"))
        a.id = r.string("id");
    a.name = r.string("name");
    if (r.has("description"))
        a.description = r.string("description");
    if (r.has("enabled"))
        a.enabled = r.boolean("enabled");
    a.scope = read_scope(r.object("scope"));
    a.trigger = read_trigger(r.object("trigger"));
    a.action = read_action(r.object("action"));
    if (r.has("creator"))
        a.creator = r.string("creator");
    if (r.has("created_at"))
        a.created_at = r.timestamp("created_at");
    if (r.has("updated_at"))
        a.updated_at = r.timestamp("updated_at");
    r.finish();
    detail::validate(a);
    return a;
}

Automation automation_from_json(std::string_view text) {
    return automation_from_json(detail::parse_json(text));
}

std::vector<Automation> automations_from_json(std::string_view text) {
    const json::value value = detail::parse_json(text);
    if (!value.is_array())
        return {automation_from_json(value)};
    std::vector<Automation> out;
    const auto& items = value.get_array();
    for (std::size_t i = 0; i < items.size(); ++i)
        out.push_back(detail::within_element(i, [&] { return automation_from_json(items[i]); }));
    return out;
}

json::value to_json_value(const Automation& a) {
    json::object o;
    if (!a.id.empty())
        o["id"] = a.id;
    o["name"] = a.name;
    o["description"] = a.description;
    o["enabled"] = a.enabled;
    o["scope"] = scope_json(a.scope);
    o["trigger"] = trigger_json(a.trigger);
    o["action"] = action_json(a.action);
    if (!a.creator.empty())
        o["creator"] = a.creator;
    if (a.created_at != Timestamp{})
        o["created_at"] = format_rfc3339(a.created_at);
    if (a.updated_at != Timestamp{})
        o["updated_at"] = format_rfc3339(a.updated_at);
    return o;
}

std::string to_json(const Automation& a) {
    return json::serialize(to_json_value(a));
}

}  // namespace herald
