#include "support/test_storage.hpp"

#include <herald/memory_storage.hpp>

namespace herald::test {

std::shared_ptr<Storage> make_storage() {
    return std::make_shared<MemoryStorage>();
}

}  // namespace herald::test
