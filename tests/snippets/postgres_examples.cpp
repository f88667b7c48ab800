// The usage examples of the PostgreSQL backend (its header and doc/storage.md), compiled inside
// functions whose parameters are the names each takes for granted. Taken from the sources at
// build time (see CMakeLists.txt); compiled and linked, not run.
#include <herald/herald.hpp>
#include <herald/postgres/database.hpp>

#include <boost/asio/io_context.hpp>

namespace snippets {

void postgres_database_example(boost::asio::io_context& io) {
#include "include/herald/postgres/database.hpp.inc"
}

void postgres_storage_doc_example(boost::asio::io_context& io) {
#include "doc/storage.md.postgres-open.inc"
}

}  // namespace snippets
