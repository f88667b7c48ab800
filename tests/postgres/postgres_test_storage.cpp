#include "postgres/test_server.hpp"
#include "support/test_storage.hpp"

#include <herald/postgres/database.hpp>

namespace herald::test {

std::shared_ptr<Storage> make_storage() {
    return postgres::open(postgres_conninfo(), {.schema = fresh_schema()});
}

}  // namespace herald::test
