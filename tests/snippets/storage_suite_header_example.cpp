// The example of herald/testing/storage_suite.hpp, at namespace scope as a host writes it: the
// backend under test of a storage suite executable that is linked, not run (herald_unit_tests
// runs the suite against MemoryStorage).
#include "include/herald/testing/storage_suite.hpp.inc"
