// A thin RAII layer over the SQLite C API: a connection, prepared statements cached per
// connection, and every failure turned into herald::Error (storage_failure) naming the file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

struct sqlite3;
struct sqlite3_stmt;

namespace herald::detail::sqlite {

class Connection;

/// A prepared statement of a `Connection`. Bind parameters are numbered from 1, result columns
/// from 0. Bound text and blobs are not copied: they must outlive the statement's use, until
/// `reset` (which `Query` calls when it goes). Not thread-safe: used under its connection's
/// owner's lock.
class Statement {
  public:
    Statement(Connection& connection, std::string_view sql);
    ~Statement();
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    Statement& bind(int index, std::int64_t value);
    Statement& bind(int index, double value);
    Statement& bind(int index, std::string_view text);
    Statement& bind(int index, std::span<const unsigned char> blob);
    Statement& bind_null(int index);
    template <class T>
    Statement& bind(int index, const std::optional<T>& value) {
        return value ? bind(index, *value) : bind_null(index);
    }

    /// Advances to the next row; false when there is none (the statement is done).
    bool step();
    /// Runs a statement that returns no rows.
    void run();
    /// Clears bindings and rewinds, ready for the next use.
    void reset() noexcept;

    bool is_null(int column) const;
    std::int64_t int64(int column) const;
    double real(int column) const;
    std::string_view text(int column) const;
    std::span<const unsigned char> blob(int column) const;

  private:
    Connection& connection_;
    sqlite3_stmt* statement_ = nullptr;
};

/// Uses a cached statement and rewinds it when done, also when an exception leaves the scope.
class Query {
  public:
    Query(Connection& connection, std::string_view sql);
    ~Query() { statement_.reset(); }
    Query(const Query&) = delete;
    Query& operator=(const Query&) = delete;
    Statement* operator->() const noexcept { return &statement_; }
    Statement& operator*() const noexcept { return statement_; }

  private:
    Statement& statement_;
};

/// An open database connection. Not thread-safe: its owner serialises every use.
class Connection {
  public:
    /// Opens (creating when `create`) the database at `path` through the VFS named `vfs`
    /// (empty: SQLite's default); throws herald::Error.
    Connection(std::string path, bool create, const std::string& vfs);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    /// Runs one or more statements that return no rows.
    void exec(std::string_view sql);
    /// The cached statement for `sql` (prepared on first use).
    Statement& prepare(std::string_view sql);
    /// The value of a pragma or query that returns one integer.
    std::int64_t scalar(std::string_view sql);
    std::int64_t changes() const noexcept;
    /// The rowid of the row the last INSERT added.
    std::int64_t last_insert_rowid() const noexcept;
    bool read_only() const noexcept;
    const std::string& path() const noexcept { return path_; }
    sqlite3* handle() const noexcept { return db_; }

    /// Throws herald::Error (storage_failure): the file, what was being done, SQLite's message.
    [[noreturn]] void fail(int code, std::string_view doing) const;

  private:
    std::string path_;
    sqlite3* db_ = nullptr;
    struct SqlHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view sql) const noexcept {
            return std::hash<std::string_view>{}(sql);
        }
    };
    std::unordered_map<std::string, std::unique_ptr<Statement>, SqlHash, std::equal_to<>>
        statements_;
};

/// A transaction on a connection: rolled back unless committed. BEGIN IMMEDIATE takes the write
/// lock up front, so a transaction never fails half-way for want of it.
class Transaction {
  public:
    explicit Transaction(Connection& connection);
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void commit();

  private:
    Connection& connection_;
    bool open_ = true;
};

}  // namespace herald::detail::sqlite
