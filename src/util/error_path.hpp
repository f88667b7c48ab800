// Naming the element of a list an error is about: "[2].trigger.window".
#pragma once

#include <herald/error.hpp>

#include <cstddef>
#include <string>

namespace herald::detail {

/// Runs `f`, prefixing the field of any herald::Error it throws with "[index]".
template <class F>
decltype(auto) within_element(std::size_t index, F&& f) {
    try {
        return f();
    } catch (const Error& e) {
        const std::string at = "[" + std::to_string(index) + "]";
        throw Error(e.code(), e.field().empty() ? at : at + "." + e.field(), e.reason());
    }
}

}  // namespace herald::detail
