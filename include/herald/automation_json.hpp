// herald/automation_json.hpp — the JSON format of automations (import and export).
//
// clang-format off
//     herald::Automation a = herald::automation_from_json(R"({
//         "name": "deploy-production",
//         "scope": {"type": "REGISTRY", "entity": "acme", "registry": "model-registry"},
//         "trigger": {"type": "ADD_ARTIFACT_ALIAS", "alias": "production"},
//         "action": {"type": "NO_ACTION"}})");
//     std::string text = herald::to_json(a);
// clang-format on
//
// doc/formats.md documents every field. Unknown keys, wrong types and invalid values throw
// herald::Error naming the field ("trigger.window") and the reason.
#pragma once

#include <herald/automation.hpp>

#include <boost/json/fwd.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace herald {

Automation automation_from_json(std::string_view text);
Automation automation_from_json(const boost::json::value& value);
/// A string literal is JSON text (not a JSON string value).
inline Automation automation_from_json(const char* text) {
    return automation_from_json(std::string_view{text});
}
/// A JSON array of automations, or a single automation object.
std::vector<Automation> automations_from_json(std::string_view text);

boost::json::value to_json_value(const Automation& automation);
std::string to_json(const Automation& automation);

}  // namespace herald
