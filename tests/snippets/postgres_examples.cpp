// The usage example of the PostgreSQL backend's header (include/herald/postgres/), compiled
// inside a function whose parameters are the names it takes for granted. Taken from the header
// at build time (see CMakeLists.txt); compiled and linked, not run.
#include <herald/herald.hpp>
#include <herald/postgres/database.hpp>

#include <boost/asio/io_context.hpp>

namespace snippets {

void postgres_database_example(boost::asio::io_context& io) {
#include "include/herald/postgres/database.hpp.inc"
}

}  // namespace snippets
