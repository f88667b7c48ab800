// The usage examples of the SQLite backend's headers (include/herald/sqlite/), compiled inside
// functions whose parameters are the names each example takes for granted. Taken from the
// headers at build time (see CMakeLists.txt); compiled and linked, not run.
#include <herald/herald.hpp>
#include <herald/sqlite/database.hpp>
#include <herald/sqlite/key_provider.hpp>
#include <herald/sqlite/secret_store.hpp>

#include <boost/asio/io_context.hpp>

#include <memory>

namespace snippets {

void database_example(boost::asio::io_context& io) {
#include "include/herald/sqlite/database.hpp.inc"
}

// The metrics header's example opens a database, so it is compiled here.
void metrics_example(boost::asio::io_context& io) {
#include "include/herald/metrics.hpp.inc"
}

void key_provider_example(const std::shared_ptr<herald::sqlite::Database>& store) {
#include "include/herald/key_provider.hpp.inc"
}

void secret_store_example(const std::shared_ptr<herald::sqlite::Database>& store) {
#include "include/herald/sqlite/secret_store.hpp.inc"
}

}  // namespace snippets
