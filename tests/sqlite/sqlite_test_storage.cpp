#include "sqlite/temp_dir.hpp"
#include "support/test_storage.hpp"

#include <herald/sqlite/database.hpp>

namespace herald::test {

std::shared_ptr<Storage> make_storage() {
    struct Owned {
        TempDir dir;
        std::shared_ptr<sqlite::Database> database = sqlite::open(dir / "herald.db");
    };
    auto owned = std::make_shared<Owned>();
    return {owned, owned->database.get()};
}

}  // namespace herald::test
