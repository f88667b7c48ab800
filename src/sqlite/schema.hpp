// The database schema and its migrations.
#pragma once

#include "sqlite/connection.hpp"

namespace herald::detail::sqlite {

/// Brings the schema of `connection`'s file up to `herald::sqlite::schema_version`, one
/// transaction per step. Throws herald::Error (storage_failure) for a file that is not a
/// herald database or was written by a newer herald.
void migrate(Connection& connection);
/// Refuses (herald::Error, storage_failure) a file that `migrate` would refuse or would
/// upgrade: what a read-only open accepts is this build's schema only.
void check_schema(Connection& connection);

}  // namespace herald::detail::sqlite
