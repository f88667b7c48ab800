// herald/event_json.hpp — the JSON format of events, for hosts that publish without C++ (the
// `herald publish` command reads one event per line).
//
// clang-format off
//     herald::Event e = herald::event_from_json(R"({
//         "type": "ALIAS_ADDED", "author": "alice", "entity": "acme",
//         "project": "model-registry", "alias": "production",
//         "version": {"collection": "classifier", "collection_type": "model", "index": 4}})");
//     std::string line = herald::to_json(e);   // event_from_json(line) == e
// clang-format on
//
// doc/formats.md ("Event JSON format") documents every field. Unknown keys, wrong types and
// missing fields throw herald::Error naming the field ("version.index", "metrics[1].value") and
// the reason. It is also how herald stores the events of its firings.
#pragma once

#include <herald/event.hpp>

#include <boost/json/fwd.hpp>

#include <string>
#include <string_view>

namespace herald {

Event event_from_json(std::string_view text);
Event event_from_json(const boost::json::value& value);
/// A string literal is JSON text (not a JSON string value).
inline Event event_from_json(const char* text) {
    return event_from_json(std::string_view{text});
}

boost::json::value to_json_value(const Event& event);
std::string to_json(const Event& event);

/// The `type` of an event kind in the JSON format: "ARTIFACT_CREATED", "ALIAS_ADDED", ...
std::string_view event_type_name(EventKind kind) noexcept;

}  // namespace herald
