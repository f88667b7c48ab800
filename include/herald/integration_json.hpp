// herald/integration_json.hpp — the JSON format of integrations (import and export).
//
// clang-format off
//     herald::Integration i = herald::integration_from_json(R"({
//         "type": "WEBHOOK", "entity": "acme", "name": "deploy",
//         "url": "https://ci.example.com/hooks/herald",
//         "signature": "GITHUB", "signing_secret": "SIGNING_KEY"})");
//     std::string text = herald::to_json(i);   // integration_from_json(text) == i
// clang-format on
//
// An integration holds secret names, never values. doc/formats.md ("Integration JSON format")
// documents every field. Unknown keys, wrong types and invalid values throw herald::Error
// naming the field ("url", "headers.X-Env") and the reason.
#pragma once

#include <herald/integration.hpp>

#include <boost/json/fwd.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace herald {

Integration integration_from_json(std::string_view text);
Integration integration_from_json(const boost::json::value& value);
/// A string literal is JSON text (not a JSON string value).
inline Integration integration_from_json(const char* text) {
    return integration_from_json(std::string_view{text});
}
/// A JSON array of integrations, or a single integration object; errors name the element.
std::vector<Integration> integrations_from_json(std::string_view text);

boost::json::value to_json_value(const Integration& integration);
std::string to_json(const Integration& integration);

}  // namespace herald
