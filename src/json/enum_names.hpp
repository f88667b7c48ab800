// Enumerations spelled as names in herald's JSON formats ("FAILED", "WEBHOOK"): one table per
// enumeration, read strictly (an unknown name lists the accepted ones) and written back.
#pragma once

#include "json/json_reader.hpp"

#include <herald/event.hpp>

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

namespace herald::detail {

template <class Enum, std::size_t N>
using NameTable = std::array<std::pair<Enum, std::string_view>, N>;

template <class Enum, std::size_t N>
std::string_view name_of(const NameTable<Enum, N>& table, Enum value) {
    for (const auto& [e, name] : table)
        if (e == value)
            return name;
    return "?";
}

template <class Enum, std::size_t N>
Enum enum_from(const NameTable<Enum, N>& table, const std::string& text, ObjectReader& r,
               std::string_view key) {
    for (const auto& [e, name] : table)
        if (name == text)
            return e;
    std::string choices;
    for (const auto& [e, name] : table) {
        if (!choices.empty())
            choices += ", ";
        choices += name;
    }
    r.fail(key, "unknown value '" + text + "' (expected one of " + choices + ")");
}

template <class Enum, std::size_t N>
Enum enum_of(const NameTable<Enum, N>& table, ObjectReader& r, std::string_view key) {
    return enum_from(table, r.string(key), r, key);
}

template <class Enum, std::size_t N>
void enum_if_present(const NameTable<Enum, N>& table, ObjectReader& r, std::string_view key,
                     Enum& out) {
    if (r.has(key))
        out = enum_of(table, r, key);
}

inline constexpr NameTable<RunState, 5> run_state_names{{{RunState::running, "RUNNING"},
                                                         {RunState::finished, "FINISHED"},
                                                         {RunState::failed, "FAILED"},
                                                         {RunState::crashed, "CRASHED"},
                                                         {RunState::killed, "KILLED"}}};

}  // namespace herald::detail
