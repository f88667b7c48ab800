// Catching the herald::Error a call throws, for tests that check its code, field and reason.
#pragma once

#include <herald/error.hpp>

#include <catch2/catch.hpp>

#include <functional>

namespace herald::test {

/// The herald::Error `call` throws; fails the test when it throws none.
inline Error error_of(const std::function<void()>& call) {
    try {
        call();
    } catch (const Error& e) {
        return e;
    }
    FAIL("no herald::Error was thrown");
    return Error(errc::invalid_argument, "", "");
}

}  // namespace herald::test
