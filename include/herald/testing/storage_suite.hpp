// herald/testing/storage_suite.hpp — herald's storage tests, run against a host's own backend.
//
// The storage suite is the Catch2 v2 test cases that every herald backend passes — the in-memory
// one, SQLite and PostgreSQL: automations, integrations, the outbox (claims, leases, settling),
// the history and its counts, run trigger state, `record_publish` (all or none) and
// retention passes. A host that implements `herald::Storage` over its own database runs the same
// cases against it: it links the CMake target `herald::storage_suite` into a test executable of
// its own and defines `herald::testing::make_storage`, which every case calls for the storage it
// tests:
//
// clang-format off
//     #include <herald/memory_storage.hpp>
//     #include <herald/testing/storage_suite.hpp>
//
//     std::shared_ptr<herald::Storage> herald::testing::make_storage() {
//         return std::make_shared<herald::MemoryStorage>();   // the host's own backend here
//     }
// clang-format on
//
// Linking. `herald::storage_suite` (find_package(herald COMPONENTS storage_suite) when installed;
// built when herald's build finds Catch2 v2) is an object library: its cases are compiled objects,
// put into the executable that links the target directly, so that Catch2's registrations, which
// run from static initializers, are all kept. Link it from the executable itself, not through a
// library of the host's. The cases are compiled against the Catch2 v2 headers herald was built
// with; the host's executable uses the same Catch2.
//
// Running. The suite has no main: the host gives Catch2's, in one source file of the executable
// (`#define CATCH_CONFIG_MAIN` before `#include <catch2/catch.hpp>`, or its own `Catch::Session`),
// so the suite can sit beside the host's own cases. Catch2's command line selects cases as usual
// (by name, or by the tags `[storage]`, `[history]`, `[outbox]`, `[integrations]`, `[metrics]`,
// `[prune]`), and CMake's `catch_discover_tests` lists them in CTest.
#pragma once

#include <herald/storage.hpp>

#include <memory>

namespace herald::testing {

/// Defined by the host: a new, empty storage of the backend under test, called once or more by
/// every case. Each call returns a storage that shares no state with any other call's (a new
/// database file, a fresh schema, ...), so that the cases are independent of one another; it is
/// released when the case ends. Throwing fails the case that called it.
std::shared_ptr<Storage> make_storage();

}  // namespace herald::testing
