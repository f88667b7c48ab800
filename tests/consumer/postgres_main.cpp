// Exits 0 when herald::postgres, consumed as a package component, links and runs: opening a
// database with no server behind it fails with herald's storage_failure, not a crash.
#include <herald/error.hpp>
#include <herald/postgres/database.hpp>

int main() {
    try {
        herald::postgres::open("host=/nonexistent-herald-consumer dbname=herald connect_timeout=2");
    } catch (const herald::Error& e) {
        return e.code() == herald::errc::storage_failure ? 0 : 1;
    }
    return 1;
}
