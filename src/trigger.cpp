#include <herald/trigger.hpp>

#include <array>

namespace herald {
namespace {

constexpr std::array<std::string_view, 4> condition_state_names{"normal", "pending", "firing",
                                                                "recovering"};

constexpr std::array<std::string_view, trigger_kind_count> trigger_names{
    "CREATE_ARTIFACT",   "LINK_ARTIFACT",       "UNLINK_ARTIFACT",      "ADD_ARTIFACT_ALIAS",
    "ADD_ARTIFACT_TAG",  "REMOVE_ARTIFACT_TAG", "RUN_METRIC_THRESHOLD", "RUN_METRIC_CHANGE",
    "RUN_METRIC_ZSCORE", "RUN_STATE",
};

}  // namespace

bool RunFilter::matches(const Run& run) const noexcept {
    if (user && run.user != *user)
        return false;
    if (name && !name->matches(run.name))
        return false;
    return true;
}

const RunFilter* Trigger::run_filter() const noexcept {
    return std::visit(
        [](const auto& spec) -> const RunFilter* {
            if constexpr (requires { spec.runs; })
                return &spec.runs;
            else
                return nullptr;
        },
        spec_);
}

std::optional<std::chrono::seconds> Trigger::cooldown() const noexcept {
    return std::visit(
        [](const auto& spec) -> std::optional<std::chrono::seconds> {
            if constexpr (requires { spec.cooldown; })
                return spec.cooldown;
            else
                return std::nullopt;
        },
        spec_);
}

const Hysteresis* Trigger::hysteresis() const noexcept {
    return std::visit(
        [](const auto& spec) -> const Hysteresis* {
            if constexpr (requires { spec.hysteresis; })
                return &spec.hysteresis;
            else
                return nullptr;
        },
        spec_);
}

std::string_view to_string(ConditionState s) noexcept {
    return condition_state_names[static_cast<std::size_t>(s)];
}

std::optional<ConditionState> condition_state_from_string(std::string_view name) noexcept {
    for (std::size_t i = 0; i < condition_state_names.size(); ++i)
        if (condition_state_names[i] == name)
            return static_cast<ConditionState>(i);
    return std::nullopt;
}

std::string_view to_string(TriggerKind kind) noexcept {
    return trigger_names[static_cast<std::size_t>(kind)];
}

std::optional<TriggerKind> trigger_kind_from_string(std::string_view name) noexcept {
    for (std::size_t i = 0; i < trigger_names.size(); ++i)
        if (trigger_names[i] == name)
            return static_cast<TriggerKind>(i);
    return std::nullopt;
}

bool allowed_in(TriggerKind trigger, ScopeKind scope) noexcept {
    using enum ScopeKind;
    switch (trigger) {
        case TriggerKind::create_artifact:
            return scope == project || scope == collection;
        case TriggerKind::link_artifact:
        case TriggerKind::unlink_artifact:
            return scope == registry || scope == collection || scope == entity;
        case TriggerKind::add_artifact_alias:
            return true;
        case TriggerKind::add_artifact_tag:
        case TriggerKind::remove_artifact_tag:
            return scope != entity;
        case TriggerKind::run_metric_threshold:
        case TriggerKind::run_metric_change:
        case TriggerKind::run_metric_zscore:
        case TriggerKind::run_state:
            return scope == project;
    }
    return false;
}

EventKind listens_to(TriggerKind kind) noexcept {
    switch (kind) {
        case TriggerKind::create_artifact:
            return EventKind::artifact_created;
        case TriggerKind::link_artifact:
            return EventKind::artifact_linked;
        case TriggerKind::unlink_artifact:
            return EventKind::artifact_unlinked;
        case TriggerKind::add_artifact_alias:
            return EventKind::alias_added;
        case TriggerKind::add_artifact_tag:
            return EventKind::tag_added;
        case TriggerKind::remove_artifact_tag:
            return EventKind::tag_removed;
        case TriggerKind::run_metric_threshold:
        case TriggerKind::run_metric_change:
        case TriggerKind::run_metric_zscore:
            return EventKind::run_metrics_logged;
        case TriggerKind::run_state:
            return EventKind::run_state_changed;
    }
    return EventKind::artifact_created;
}

std::string_view to_string(Aggregate a) noexcept {
    switch (a) {
        case Aggregate::average:
            return "avg";
        case Aggregate::min:
            return "min";
        case Aggregate::max:
            return "max";
    }
    return "?";
}

std::string_view to_string(Comparison c) noexcept {
    switch (c) {
        case Comparison::greater:
            return ">";
        case Comparison::greater_equal:
            return ">=";
        case Comparison::less:
            return "<";
        case Comparison::less_equal:
            return "<=";
        case Comparison::equal:
            return "==";
        case Comparison::not_equal:
            return "!=";
    }
    return "?";
}

bool compare(double lhs, Comparison c, double rhs) noexcept {
    switch (c) {
        case Comparison::greater:
            return lhs > rhs;
        case Comparison::greater_equal:
            return lhs >= rhs;
        case Comparison::less:
            return lhs < rhs;
        case Comparison::less_equal:
            return lhs <= rhs;
        case Comparison::equal:
            return lhs == rhs;
        case Comparison::not_equal:
            return lhs != rhs;
    }
    return false;
}

}  // namespace herald
