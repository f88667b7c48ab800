// The storage backend the behavioural storage tests run against. herald_unit_tests links
// memory_test_storage.cpp (MemoryStorage); herald_sqlite_tests links the same test files with
// tests/sqlite/sqlite_test_storage.cpp (a fresh SQLite file), so every backend passes the same
// tests.
#pragma once

#include <herald/storage.hpp>

#include <memory>

namespace herald::test {

/// A new, empty storage of the backend under test.
std::shared_ptr<Storage> make_storage();

}  // namespace herald::test
