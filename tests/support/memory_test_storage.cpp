// The backend herald_unit_tests runs the storage suite against: MemoryStorage.
#include <herald/memory_storage.hpp>
#include <herald/testing/storage_suite.hpp>

namespace herald::testing {

std::shared_ptr<Storage> make_storage() {
    return std::make_shared<MemoryStorage>();
}

}  // namespace herald::testing
