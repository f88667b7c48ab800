// The backend under test, by the name the suite's cases call it: herald::test::make_storage is
// the host's herald::testing::make_storage (herald/testing/storage_suite.hpp).
#pragma once

#include <herald/testing/storage_suite.hpp>

namespace herald::test {

using herald::testing::make_storage;

}  // namespace herald::test
