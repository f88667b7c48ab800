// herald's tables in a PostgreSQL schema of their own: created on open, migrated from older
// versions, refused when a newer herald wrote them.
#pragma once

#include "postgres/connection.hpp"

#include <string>

namespace herald::detail::postgres {

/// Creates `schema` and its tables when missing, or migrates them to this build's version, in
/// one transaction serialised against other openers. Throws herald::Error (storage_failure)
/// when the schema holds a newer version, and (invalid_argument, field "schema") when the name
/// is not a plain lower-case identifier.
void prepare_schema(Connection& c, const std::string& schema);

}  // namespace herald::detail::postgres
