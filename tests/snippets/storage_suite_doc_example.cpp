// The storage suite's example of doc/storage.md, with the host's backend it names (my::) standing
// in as MemoryStorage: a storage suite executable, Catch2's main its own, that is linked, not run.
#include <herald/memory_storage.hpp>

#include <memory>

namespace my {

struct Database {};

Database new_test_database() {
    return {};
}

std::shared_ptr<herald::Storage> open_storage(Database) {
    return std::make_shared<herald::MemoryStorage>();
}

}  // namespace my

#include "doc/storage.md.storage-suite.inc"
