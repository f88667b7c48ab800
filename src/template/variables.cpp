#include "template/variables.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace herald::detail {
namespace {

constexpr std::array<std::pair<std::string_view, Variable>, 24> catalogue{{
    {"event_type", Variable::event_type},
    {"event_author", Variable::event_author},
    {"entity_name", Variable::entity_name},
    {"project_name", Variable::project_name},
    {"automation_name", Variable::automation_name},
    {"event_id", Variable::event_id},
    {"event_time", Variable::event_time},
    {"artifact_collection_name", Variable::artifact_collection_name},
    {"artifact_version", Variable::artifact_version},
    {"artifact_version_string", Variable::artifact_version_string},
    {"artifact_version_index", Variable::artifact_version_index},
    {"artifact_metadata", Variable::artifact_metadata},
    {"alias", Variable::alias},
    {"tag", Variable::tag},
    {"run_id", Variable::run_id},
    {"run_name", Variable::run_name},
    {"run_user", Variable::run_user},
    {"run_status", Variable::run_status},
    {"metric_name", Variable::metric_name},
    {"metric_value", Variable::metric_value},
    {"metric_values", Variable::metric_values},
    {"metric_condition", Variable::metric_condition},
    {"metric_state", Variable::metric_state},
    {"ACCESS_TOKEN", Variable::access_token},
}};

bool is_artifact_trigger(TriggerKind t) noexcept {
    switch (t) {
        case TriggerKind::create_artifact:
        case TriggerKind::link_artifact:
        case TriggerKind::unlink_artifact:
        case TriggerKind::add_artifact_alias:
        case TriggerKind::add_artifact_tag:
        case TriggerKind::remove_artifact_tag:
            return true;
        default:
            return false;
    }
}

bool is_metric_trigger(TriggerKind t) noexcept {
    return t == TriggerKind::run_metric_threshold || t == TriggerKind::run_metric_change ||
           t == TriggerKind::run_metric_zscore;
}

}  // namespace

std::optional<Variable> find_variable(std::string_view name) noexcept {
    if (name.size() > metadata_key_prefix.size() && name.starts_with(metadata_key_prefix))
        return Variable::artifact_metadata_key;
    for (const auto& [spelling, variable] : catalogue)
        if (spelling == name)
            return variable;
    return std::nullopt;
}

bool applies_to(Variable variable, TriggerKind trigger) noexcept {
    switch (variable) {
        case Variable::artifact_collection_name:
        case Variable::artifact_version:
        case Variable::artifact_version_string:
        case Variable::artifact_version_index:
        case Variable::artifact_metadata:
        case Variable::artifact_metadata_key:
            return is_artifact_trigger(trigger);
        case Variable::alias:
            return trigger == TriggerKind::add_artifact_alias;
        case Variable::tag:
            return trigger == TriggerKind::add_artifact_tag ||
                   trigger == TriggerKind::remove_artifact_tag;
        case Variable::run_id:
        case Variable::run_name:
        case Variable::run_user:
            return !is_artifact_trigger(trigger);
        case Variable::run_status:
            return trigger == TriggerKind::run_state;
        case Variable::metric_name:
        case Variable::metric_value:
        case Variable::metric_values:
        case Variable::metric_condition:
        case Variable::metric_state:
            return is_metric_trigger(trigger);
        default:
            return true;
    }
}

const std::string& default_payload(TriggerKind trigger) {
    static const auto payloads = [] {
        std::array<std::string, trigger_kind_count> out;
        for (std::size_t k = 0; k < trigger_kind_count; ++k) {
            std::string& text = out[k];
            for (const auto& [spelling, variable] : catalogue) {
                if (variable == Variable::access_token ||
                    !applies_to(variable, static_cast<TriggerKind>(k)))
                    continue;
                text += text.empty() ? "{" : ", ";
                text += '"';
                text += spelling;
                text += "\": \"${";
                text += spelling;
                text += "}\"";
            }
            text += '}';
        }
        return out;
    }();
    return payloads[static_cast<std::size_t>(trigger)];
}

bool is_secret_name(std::string_view name) noexcept {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_';
    });
}

bool is_reserved_name(std::string_view name) noexcept {
    return find_variable(name).has_value();
}

}  // namespace herald::detail
