// The message of an exception caught as an exception_ptr, for reports and logs, and copies of
// one for writers on other threads.
#pragma once

#include <herald/error.hpp>

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

/// The exception `error` holds, in an object of its own: a herald::Error copied, any other
/// exception as a storage_failure with its message. For the writers of a failed batch, each on a
/// thread of its own: one exception object shared between them would be freed by whichever
/// releases it last, through a reference count libstdc++ keeps out of ThreadSanitizer's sight.
inline std::exception_ptr copy_of(const std::exception_ptr& error) {
    try {
        std::rethrow_exception(error);
    } catch (const Error& e) {
        return std::make_exception_ptr(Error(e));
    } catch (...) {
        return std::make_exception_ptr(Error(errc::storage_failure, "", message_of(error)));
    }
}

}  // namespace herald::detail
