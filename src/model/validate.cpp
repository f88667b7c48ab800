#include "model/validate.hpp"
#include "json/json_text.hpp"
#include "template/action_templates.hpp"

#include <herald/error.hpp>

#include <boost/json/value.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <variant>

namespace herald::detail {
namespace {

[[noreturn]] void fail(std::string field, std::string reason) {
    throw Error(errc::invalid_argument, std::move(field), std::move(reason));
}

void require_name(std::string_view value, const char* field) {
    if (value.empty())
        fail(field, "must not be empty");
    if (value.find('\0') != std::string_view::npos)
        fail(field, "must not contain NUL");
}

void validate_scope(const Scope& scope) {
    require_name(scope.entity, "scope.entity");
    if (scope.kind == ScopeKind::entity) {
        if (!scope.project.empty())
            fail("scope.project", "an ENTITY scope has no project");
        return;
    }
    require_name(scope.project, "scope.project");
    if (scope.kind == ScopeKind::collection)
        require_name(scope.collection, "scope.collection");
    else if (!scope.collection.empty())
        fail("scope.collection", "only a COLLECTION scope names a collection");
}

void require_window(std::size_t window, const char* field) {
    if (window == 0 || window > max_metric_window)
        fail(field, "must be between 1 and " + std::to_string(max_metric_window) + " values");
}

void require_finite(double value, const char* field) {
    if (!std::isfinite(value))
        fail(field, "must be a finite number");
}

void require_cooldown(std::chrono::seconds cooldown) {
    if (cooldown.count() < 0)
        fail("trigger.cooldown", "must not be negative");
}

void require_metric(const std::string& metric) {
    require_name(metric, "trigger.metric");
}

void validate_trigger(const Trigger& trigger) {
    std::visit(
        [](const auto& spec) {
            using T = std::decay_t<decltype(spec)>;
            if constexpr (std::is_same_v<T, trigger::MetricThreshold>) {
                require_metric(spec.metric);
                require_window(spec.window, "trigger.window");
                require_finite(spec.threshold, "trigger.threshold");
                require_cooldown(spec.cooldown);
            } else if constexpr (std::is_same_v<T, trigger::MetricChange>) {
                require_metric(spec.metric);
                require_window(spec.current_window, "trigger.current_window");
                require_window(spec.prior_window, "trigger.prior_window");
                require_finite(spec.amount, "trigger.amount");
                if (spec.amount <= 0)
                    fail("trigger.amount", "must be greater than 0");
                require_cooldown(spec.cooldown);
            } else if constexpr (std::is_same_v<T, trigger::MetricZScore>) {
                require_metric(spec.metric);
                require_window(spec.window, "trigger.window");
                if (spec.window < 2)
                    fail("trigger.window", "a z-score needs a window of at least 2 values");
                require_finite(spec.threshold, "trigger.threshold");
                if (spec.threshold <= 0)
                    fail("trigger.threshold", "must be greater than 0");
                require_cooldown(spec.cooldown);
            } else if constexpr (std::is_same_v<T, trigger::RunStateChange>) {
                if (spec.states.empty())
                    fail("trigger.states", "choose at least one state");
                for (RunState s : spec.states)
                    if (s != RunState::running && s != RunState::finished && s != RunState::failed)
                        fail("trigger.states",
                             std::string(to_string(s)) +
                                 " cannot be chosen (Running, Finished or Failed; Crashed counts "
                                 "as Failed, Killed never triggers)");
                require_cooldown(spec.cooldown);
            }
        },
        trigger.spec());
}

/// Names, and the templates as far as the automation alone tells (its entity's integrations and
/// secrets are checked when it is written).
void validate_action(const Action& action, TriggerKind trigger) {
    std::visit(
        [](const auto& spec) {
            using T = std::decay_t<decltype(spec)>;
            if constexpr (std::is_same_v<T, action::Webhook>) {
                require_name(spec.integration, "action.integration");
            } else if constexpr (std::is_same_v<T, action::SlackNotification>) {
                require_name(spec.integration, "action.integration");
                if (spec.title.empty() && spec.message.empty())
                    fail("action.message", "a Slack notification needs a title or a message");
            } else if constexpr (std::is_same_v<T, action::LaunchJob>) {
                require_name(spec.queue, "action.queue");
                require_name(spec.job, "action.job");
            }
        },
        action.spec());
    compile_action_templates(action, trigger);
}

}  // namespace

void validate(const Automation& automation) {
    require_name(automation.name, "name");
    if (automation.name.size() > max_automation_name_length)
        fail("name", "must be at most 255 characters");
    validate_scope(automation.scope);
    const TriggerKind kind = automation.trigger.kind();
    if (!allowed_in(kind, automation.scope.kind))
        fail("trigger.type", std::string(to_string(kind)) + " cannot be used in a " +
                                 std::string(to_string(automation.scope.kind)) + " scope");
    validate_trigger(automation.trigger);
    validate_action(automation.action, kind);
}

namespace {

bool valid_utf8(std::string_view value) noexcept {
    std::size_t i = 0;
    // Most text is ASCII: eight bytes at a time while no byte has its high bit set.
    for (std::uint64_t word; i + sizeof word <= value.size(); i += sizeof word) {
        std::memcpy(&word, value.data() + i, sizeof word);
        if (word & 0x8080808080808080ULL)
            break;
    }
    while (i < value.size()) {
        std::size_t skip = 0;
        if (static_cast<unsigned char>(value[i]) < 0x80)
            ++i;
        else if (const std::size_t n = utf8_sequence(value, i, &skip))
            i += n;
        else
            return false;
    }
    return true;
}

constexpr const char* not_utf8 = "must be valid UTF-8";

void require_utf8(std::string_view value, std::string_view field) {
    if (!valid_utf8(value))
        fail(std::string(field), not_utf8);
}

void require_utf8_all(const std::vector<std::string>& values, std::string_view field) {
    for (std::size_t i = 0; i < values.size(); ++i)
        if (!valid_utf8(values[i]))
            fail(std::string(field) + "[" + std::to_string(i) + "]", not_utf8);
}

const char* json_text_problem(const boost::json::value& value, std::string& path);

/// What JSON text can hold: valid UTF-8 and finite numbers. When `object` holds something
/// else, puts the path to it (".key", "[i]") in `path` and returns why; nullptr otherwise.
const char* json_text_problem(const boost::json::object& object, std::string& path) {
    for (const auto& [key, item] : object) {
        const char* problem = valid_utf8(key) ? json_text_problem(item, path) : not_utf8;
        if (problem) {
            path.insert(0, "." + std::string(key));
            return problem;
        }
    }
    return nullptr;
}

const char* json_text_problem(const boost::json::value& value, std::string& path) {
    if (value.is_double() && !std::isfinite(value.get_double()))
        return "must be a finite number";
    if (value.is_string() && !valid_utf8(value.get_string()))
        return not_utf8;
    if (value.is_object())
        return json_text_problem(value.get_object(), path);
    if (value.is_array())
        for (std::size_t i = 0; i < value.get_array().size(); ++i)
            if (const char* problem = json_text_problem(value.get_array()[i], path)) {
                path.insert(0, "[" + std::to_string(i) + "]");
                return problem;
            }
    return nullptr;
}

void validate_version(const ArtifactVersion& v) {
    require_utf8(v.collection, "version.collection");
    require_utf8(v.collection_type, "version.collection_type");
    if (v.index < 0)
        fail("version.index", "must be >= 0");
    require_utf8(v.id, "version.id");
    require_utf8(v.uri, "version.uri");
    require_utf8_all(v.aliases, "version.aliases");
    require_utf8_all(v.tags, "version.tags");
    std::string path;
    if (const char* problem = json_text_problem(v.metadata, path))
        fail("version.metadata" + path, problem);
}

void validate_run(const Run& run) {
    require_utf8(run.id, "run.id");
    require_utf8(run.name, "run.name");
    require_utf8(run.user, "run.user");
}

}  // namespace

void validate(const Event& event) {
    require_utf8(event.id, "id");
    require_utf8(event.author, "author");
    require_utf8(event.entity, "entity");
    require_utf8(event.project, "project");
    std::visit(
        [](const auto& body) {
            using T = std::decay_t<decltype(body)>;
            if constexpr (std::is_same_v<T, RunMetricsLogged>) {
                validate_run(body.run);
                if (body.step < 0)
                    fail("step", "must be >= 0");
                if (body.metrics.empty())
                    fail("metrics", "must not be empty");
                for (std::size_t i = 0; i < body.metrics.size(); ++i)
                    if (!valid_utf8(body.metrics[i].name))
                        fail("metrics[" + std::to_string(i) + "].name", not_utf8);
            } else if constexpr (std::is_same_v<T, RunStateChanged>) {
                validate_run(body.run);
            } else {
                validate_version(body.version);
                if constexpr (requires { body.source; }) {
                    require_utf8(body.source.entity, "source.entity");
                    require_utf8(body.source.project, "source.project");
                    require_utf8(body.source.collection, "source.collection");
                    if (body.source.index < 0)
                        fail("source.index", "must be >= 0");
                }
                if constexpr (requires { body.alias; })
                    require_utf8(body.alias, "alias");
                if constexpr (requires { body.tag; })
                    require_utf8(body.tag, "tag");
            }
        },
        event.body);
}

}  // namespace herald::detail
