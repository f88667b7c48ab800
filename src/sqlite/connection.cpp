#include "sqlite/connection.hpp"

#include <herald/error.hpp>

#include <sqlite3.h>

namespace herald::detail::sqlite {

Statement::Statement(Connection& connection, std::string_view sql) : connection_(connection) {
    const int rc = sqlite3_prepare_v3(connection.handle(), sql.data(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &statement_, nullptr);
    if (rc != SQLITE_OK)
        connection.fail(rc, "preparing a statement");
}

Statement::~Statement() {
    sqlite3_finalize(statement_);
}

Statement& Statement::bind(int index, std::int64_t value) {
    if (const int rc = sqlite3_bind_int64(statement_, index, value); rc != SQLITE_OK)
        connection_.fail(rc, "binding a value");
    return *this;
}

Statement& Statement::bind(int index, double value) {
    if (const int rc = sqlite3_bind_double(statement_, index, value); rc != SQLITE_OK)
        connection_.fail(rc, "binding a value");
    return *this;
}

Statement& Statement::bind(int index, std::string_view text) {
    const int rc = sqlite3_bind_text64(statement_, index, text.data(), text.size(), SQLITE_STATIC,
                                       SQLITE_UTF8);
    if (rc != SQLITE_OK)
        connection_.fail(rc, "binding a value");
    return *this;
}

Statement& Statement::bind(int index, std::span<const unsigned char> blob) {
    const int rc = sqlite3_bind_blob64(statement_, index, blob.data(), blob.size(), SQLITE_STATIC);
    if (rc != SQLITE_OK)
        connection_.fail(rc, "binding a value");
    return *this;
}

Statement& Statement::bind_null(int index) {
    if (const int rc = sqlite3_bind_null(statement_, index); rc != SQLITE_OK)
        connection_.fail(rc, "binding a value");
    return *this;
}

bool Statement::step() {
    const int rc = sqlite3_step(statement_);
    if (rc == SQLITE_ROW)
        return true;
    if (rc == SQLITE_DONE)
        return false;
    connection_.fail(rc, "running a statement");
}

void Statement::run() {
    while (step()) {
    }
}

void Statement::reset() noexcept {
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
}

bool Statement::is_null(int column) const {
    return sqlite3_column_type(statement_, column) == SQLITE_NULL;
}

std::int64_t Statement::int64(int column) const {
    return sqlite3_column_int64(statement_, column);
}

double Statement::real(int column) const {
    return sqlite3_column_double(statement_, column);
}

std::string_view Statement::text(int column) const {
    const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(statement_, column));
    return {data ? data : "", static_cast<std::size_t>(sqlite3_column_bytes(statement_, column))};
}

std::span<const unsigned char> Statement::blob(int column) const {
    const auto* data = static_cast<const unsigned char*>(sqlite3_column_blob(statement_, column));
    return {data, static_cast<std::size_t>(sqlite3_column_bytes(statement_, column))};
}

Query::Query(Connection& connection, std::string_view sql) : statement_(connection.prepare(sql)) {}

Connection::Connection(std::string path, bool create, const std::string& vfs)
    : path_(std::move(path)) {
    const int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) |
                      SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
    const int rc = sqlite3_open_v2(path_.c_str(), &db_, flags, vfs.empty() ? nullptr : vfs.c_str());
    if (rc != SQLITE_OK)
        fail(rc, "opening the database");
}

Connection::~Connection() {
    statements_.clear();
    sqlite3_close_v2(db_);
}

void Connection::exec(std::string_view sql) {
    const std::string text(sql);
    if (const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr); rc != SQLITE_OK)
        fail(rc, "running a statement");
}

Statement& Connection::prepare(std::string_view sql) {
    auto it = statements_.find(sql);
    if (it == statements_.end())
        it = statements_.emplace(sql, std::make_unique<Statement>(*this, sql)).first;
    return *it->second;
}

std::int64_t Connection::scalar(std::string_view sql) {
    Query query(*this, sql);
    if (!query->step())
        return 0;
    return query->int64(0);
}

std::int64_t Connection::changes() const noexcept {
    return sqlite3_changes64(db_);
}

std::int64_t Connection::last_insert_rowid() const noexcept {
    return sqlite3_last_insert_rowid(db_);
}

bool Connection::read_only() const noexcept {
    return sqlite3_db_readonly(db_, "main") == 1;
}

void Connection::fail(int code, std::string_view doing) const {
    // A connection that failed to open may still carry a message; the code's text otherwise.
    const char* message =
        db_ && sqlite3_errcode(db_) == code ? sqlite3_errmsg(db_) : sqlite3_errstr(code);
    throw Error(errc::storage_failure, "",
                path_ + ": " + std::string(doing) + " failed: " + message);
}

Transaction::Transaction(Connection& connection) : connection_(connection) {
    Query(connection_, "BEGIN IMMEDIATE")->run();
}

Transaction::~Transaction() {
    if (open_)
        sqlite3_exec(connection_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::commit() {
    Query query(connection_, "COMMIT");
    query->run();
    open_ = false;
}

}  // namespace herald::detail::sqlite
