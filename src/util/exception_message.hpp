// The message of an exception caught as an exception_ptr, for reports and logs.
#pragma once

#include <exception>
#include <string>

namespace herald::detail {

/// `what()` of the exception `error` holds; "unknown error" for one that is no std::exception.
inline std::string message_of(const std::exception_ptr& error) {
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        return e.what();
    } catch (...) {
        return "unknown error";
    }
}

}  // namespace herald::detail
