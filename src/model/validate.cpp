#include "model/validate.hpp"
#include "template/action_templates.hpp"

#include <herald/error.hpp>

#include <cmath>
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

void require_pending(const Hysteresis& h, const char* recovery_field) {
    if (h.pending_evaluations == 0 || h.pending_evaluations > max_pending_evaluations)
        fail("trigger.pending_evaluations",
             "must be between 1 and " + std::to_string(max_pending_evaluations));
    if (h.pending_for.count() < 0)
        fail("trigger.pending_seconds", "must not be negative");
    if (h.recovery)
        require_finite(*h.recovery, recovery_field);
}

/// A recovery threshold lies on the far side of the threshold: a value between the two keeps
/// the automation recovering.
void require_threshold_recovery(const trigger::MetricThreshold& spec) {
    const std::optional<double> recovery = spec.hysteresis.recovery;
    if (!recovery)
        return;
    switch (spec.comparison) {
        case Comparison::greater:
        case Comparison::greater_equal:
            if (*recovery > spec.threshold)
                fail("trigger.recovery_threshold",
                     "must not be above the threshold of a '>' or '>=' trigger");
            break;
        case Comparison::less:
        case Comparison::less_equal:
            if (*recovery < spec.threshold)
                fail("trigger.recovery_threshold",
                     "must not be below the threshold of a '<' or '<=' trigger");
            break;
        case Comparison::equal:
        case Comparison::not_equal:
            fail("trigger.recovery_threshold", "needs a '>', '>=', '<' or '<=' trigger");
    }
}

/// A recovery bound of a change or z-score trigger is above 0 and at most the trigger's own.
void require_magnitude_recovery(const Hysteresis& h, double bound, const char* field,
                                const char* bound_name) {
    if (h.recovery && (*h.recovery <= 0 || *h.recovery > bound))
        fail(field, std::string("must be greater than 0 and at most the ") + bound_name);
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
                require_pending(spec.hysteresis, "trigger.recovery_threshold");
                require_threshold_recovery(spec);
            } else if constexpr (std::is_same_v<T, trigger::MetricChange>) {
                require_metric(spec.metric);
                require_window(spec.current_window, "trigger.current_window");
                require_window(spec.prior_window, "trigger.prior_window");
                require_finite(spec.amount, "trigger.amount");
                if (spec.amount <= 0)
                    fail("trigger.amount", "must be greater than 0");
                require_cooldown(spec.cooldown);
                require_pending(spec.hysteresis, "trigger.recovery_amount");
                require_magnitude_recovery(spec.hysteresis, spec.amount, "trigger.recovery_amount",
                                           "amount");
            } else if constexpr (std::is_same_v<T, trigger::MetricZScore>) {
                require_metric(spec.metric);
                require_window(spec.window, "trigger.window");
                if (spec.window < 2)
                    fail("trigger.window", "a z-score needs a window of at least 2 values");
                if (spec.recent_runs < 2 || spec.recent_runs > max_metric_window)
                    fail("trigger.recent_runs",
                         "must be between 2 and " + std::to_string(max_metric_window) + " runs");
                require_finite(spec.threshold, "trigger.threshold");
                if (spec.threshold <= 0)
                    fail("trigger.threshold", "must be greater than 0");
                require_cooldown(spec.cooldown);
                require_pending(spec.hysteresis, "trigger.recovery_threshold");
                require_magnitude_recovery(spec.hysteresis, spec.threshold,
                                           "trigger.recovery_threshold", "threshold");
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

void validate(const Event& event) {
    std::visit(
        [](const auto& body) {
            using T = std::decay_t<decltype(body)>;
            if constexpr (std::is_same_v<T, RunMetricsLogged>) {
                if (body.step < 0)
                    fail("step", "must be >= 0");
                if (body.metrics.empty())
                    fail("metrics", "must not be empty");
            } else if constexpr (!std::is_same_v<T, RunStateChanged>) {
                if (body.version.index < 0)
                    fail("version.index", "must be >= 0");
                if constexpr (requires { body.source; })
                    if (body.source.index < 0)
                        fail("source.index", "must be >= 0");
            }
        },
        event.body);
}

}  // namespace herald::detail
