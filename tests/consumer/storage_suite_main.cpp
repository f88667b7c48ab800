// The storage suite, consumed as a package component, run by a host against a backend of its
// own: Catch2's main here, the backend under test from make_storage below. Exits 0 when every
// case passes.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include "forwarding_storage.hpp"

#include <herald/testing/storage_suite.hpp>

#include <memory>

namespace herald::testing {

std::shared_ptr<Storage> make_storage() {
    return std::make_shared<test::ForwardingStorage>();
}

}  // namespace herald::testing
