// The backend herald_sqlite_tests runs the storage suite against: a new SQLite file in a
// temporary directory that goes with the storage.
#include "sqlite/temp_dir.hpp"

#include <herald/sqlite/database.hpp>
#include <herald/testing/storage_suite.hpp>

namespace herald::testing {

std::shared_ptr<Storage> make_storage() {
    struct Owned {
        test::TempDir dir;
        std::shared_ptr<sqlite::Database> database = sqlite::open(dir / "herald.db");
    };
    auto owned = std::make_shared<Owned>();
    return {owned, owned->database.get()};
}

}  // namespace herald::testing
