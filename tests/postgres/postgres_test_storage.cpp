// The backend herald_postgres_tests runs the storage suite against: a fresh schema on the test
// server (postgres/server.sh).
#include "postgres/test_server.hpp"

#include <herald/postgres/database.hpp>
#include <herald/testing/storage_suite.hpp>

namespace herald::testing {

std::shared_ptr<Storage> make_storage() {
    return postgres::open(test::postgres_conninfo(), {.schema = test::fresh_schema()});
}

}  // namespace herald::testing
