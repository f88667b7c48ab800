// The templates of an action (webhook payload; Slack title and message; launch-job override),
// compiled together with the field names errors use.
#pragma once

#include <herald/action.hpp>
#include <herald/template.hpp>

#include <functional>
#include <string>
#include <string_view>

namespace herald::detail {

struct ActionTemplates {
    Template payload;         ///< webhook
    Template title;           ///< Slack
    Template message;         ///< Slack
    Template override_value;  ///< launch job: the bare override object; empty when none
};

/// What only the automation's entity can tell. The defaults accept every secret name and,
/// in webhook payloads, `${ACCESS_TOKEN}`.
struct EntityFacts {
    bool access_token = true;  ///< whether the webhook's integration has an access token
    std::function<bool(std::string_view)> secret_exists;
};

/// Compiles the action's templates against `trigger`; throws herald::Error with the field
/// ("action.payload", "action.title", "action.message", "action.override").
ActionTemplates compile_action_templates(const Action& action, TriggerKind trigger,
                                         const EntityFacts& facts = {});

/// The payload template a webhook action sends: its own, or `default_payload(trigger)` when it
/// gives none.
std::string_view payload_source(const action::Webhook& webhook, TriggerKind trigger);

/// A launch-job override as the bare object: `{"override": {...}}` is unwrapped, anything else
/// is returned as it is. `source` must be a valid JSON template.
std::string normalize_override(std::string_view source);

}  // namespace herald::detail
