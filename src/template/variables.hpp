// The catalogue of template variables: names, and which trigger kinds they apply to.
#pragma once

#include <herald/trigger.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace herald::detail {

enum class Variable : std::uint8_t {
    event_type,
    event_author,
    entity_name,
    project_name,
    automation_name,
    event_id,
    event_time,
    artifact_collection_name,
    artifact_version,
    artifact_version_string,
    artifact_version_index,
    artifact_metadata,      ///< the whole top-level metadata object
    artifact_metadata_key,  ///< artifact_metadata.<KEY>
    alias,
    tag,
    run_id,
    run_name,
    run_user,
    run_status,
    metric_name,
    metric_value,
    metric_values,
    metric_condition,
    metric_state,  ///< "FIRING", or "RESOLVED" for a resolved firing
    access_token,  ///< ${ACCESS_TOKEN}
    secret,        ///< ${NAME}: a secret of the entity
};

/// The prefix of `artifact_metadata.<KEY>`.
inline constexpr std::string_view metadata_key_prefix = "artifact_metadata.";

/// The catalogue variable spelled `name` (artifact_metadata.<KEY> included; not secrets).
std::optional<Variable> find_variable(std::string_view name) noexcept;

/// Whether `variable` can apply to events of a `trigger` automation.
bool applies_to(Variable variable, TriggerKind trigger) noexcept;

/// The webhook payload sent when an automation gives none: a JSON template with one member per
/// variable that applies to `trigger` (not secrets nor metadata keys), in catalogue order, each
/// the whole string "${name}", so `artifact_metadata` and `metric_values` are JSON values.
const std::string& default_payload(TriggerKind trigger);

/// Letters, digits and `_`, non-empty: the syntax of secret names.
bool is_secret_name(std::string_view name) noexcept;

/// Whether `name` is taken by herald for a variable, so it cannot name a secret.
bool is_reserved_name(std::string_view name) noexcept;

}  // namespace herald::detail
