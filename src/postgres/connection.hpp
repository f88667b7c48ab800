// libpq, as the PostgreSQL backend uses it: a connection that runs parameterised statements
// (values always travel as parameters, never inside the SQL text), their results, and a pool
// of connections that runs transactions on the caller's thread or on a worker thread.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

struct pg_conn;
struct pg_result;

namespace herald::detail::postgres {

/// A one-dimensional array in PostgreSQL's text form ("{a,b}"), built element by element, for
/// a statement that takes many rows in one parameter (`unnest($1::text[], ...)`): one round trip
/// for a batch instead of one a row.
class ArrayParam {
  public:
    /// Quoted, with `"` and `\` escaped, so any text (a JSON document) reads back as it was.
    ArrayParam& text(std::string_view value);
    ArrayParam& int64(std::int64_t value);
    ArrayParam& null();
    ArrayParam& optional_int64(std::optional<std::int64_t> value);

    /// The array's text, closed.
    std::string str() const { return text_ + '}'; }

  private:
    void separate();
    std::string text_ = "{";
};

/// The parameters of one statement, $1, $2, ... in the order they are added. Text parameters
/// are sent as text (the server converts them to the column's type); bytes as binary.
class Params {
  public:
    Params& text(std::string_view value);
    Params& int64(std::int64_t value);
    Params& real(double value);
    Params& boolean(bool value);
    Params& bytes(std::span<const unsigned char> value);
    Params& null();
    Params& optional_int64(std::optional<std::int64_t> value);
    Params& array(const ArrayParam& value);

    int size() const noexcept { return static_cast<int>(values_.size()); }
    /// The arrays libpq takes; valid while this object lives and is not changed.
    const char* const* values() const;
    const int* lengths() const noexcept { return lengths_.data(); }
    const int* formats() const noexcept { return formats_.data(); }

  private:
    Params& add(std::string value, bool is_null, int format);
    std::deque<std::string> values_;  // a deque keeps each value's address stable
    std::vector<bool> nulls_;
    std::vector<int> lengths_;
    std::vector<int> formats_;
    mutable std::vector<const char*> pointers_;
};

/// The rows of a statement, in text format. Move-only.
class Result {
  public:
    explicit Result(pg_result* result) noexcept : result_(result) {}
    Result(Result&& other) noexcept;
    Result& operator=(Result&& other) noexcept;
    ~Result();

    pg_result* get() const noexcept { return result_; }
    int rows() const noexcept;
    /// How many rows an INSERT, UPDATE or DELETE changed.
    std::int64_t changed() const;
    bool is_null(int row, int column) const noexcept;
    std::string_view text(int row, int column) const noexcept;
    std::int64_t int64(int row, int column) const;
    double real(int row, int column) const;
    bool boolean(int row, int column) const noexcept;
    /// A bytea column (text format, hex encoded) as bytes.
    std::vector<unsigned char> bytes(int row, int column) const;

  private:
    pg_result* result_;
};

/// One libpq connection with herald's schema first on its search path. Not thread-safe; the
/// pool hands each to one thread at a time.
class Connection {
  public:
    /// Connects and sets the search path to `schema`. Throws herald::Error (storage_failure)
    /// with the server's message — never the conninfo, which may hold a password.
    Connection(const std::string& conninfo, const std::string& schema);
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    ~Connection();

    /// Runs one statement; throws herald::Error (storage_failure) with the server's message.
    Result exec(std::string_view sql, const Params& params = {});
    /// Runs statements without parameters (DDL), several separated by semicolons.
    void exec_script(std::string_view sql);
    /// Whether the connection is still usable, as far as can be told without a round trip:
    /// not broken, and not closed by the server since its last statement (a restart, an
    /// administrator's pg_terminate_backend). When not, `reconnect` is tried.
    bool healthy() noexcept;
    void reconnect();
    /// The identifier quoted for SQL (schema names only; values are always parameters).
    std::string quote_identifier(std::string_view name) const;
    /// The socket, for waiting until the server sends something (`LISTEN`).
    int socket() const noexcept;
    /// Reads what the server sent without blocking and returns the payloads of the
    /// notifications on `channel` received so far, oldest first. Throws herald::Error
    /// (storage_failure) when the connection is lost.
    std::vector<std::string> notifications(std::string_view channel);

  private:
    void connect();
    /// Throws herald::Error (storage_failure) when `result` is not a success.
    void check(const Result& result) const;
    std::string conninfo_;
    std::string schema_;
    pg_conn* conn_ = nullptr;
};

/// Connections to one database, and worker threads that run transactions in the background.
/// Thread-safe.
class Pool {
  public:
    /// Opens `connections` connections now (so a bad conninfo fails at open) and starts
    /// `workers` threads.
    Pool(std::string conninfo, std::string schema, std::size_t connections, std::size_t workers);
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;
    /// Runs the queued work, then joins the workers.
    ~Pool();
    /// What the destructor does, for an owner whose jobs use its other members: afterwards
    /// nothing posted runs.
    void stop();

    /// Runs `f(connection)` inside one transaction (BEGIN ... COMMIT; rolled back when `f`
    /// throws) on the calling thread, waiting for a free connection.
    template <class F>
    auto transact(F&& f) -> decltype(f(std::declval<Connection&>())) {
        Lease lease(*this);
        begin(*lease.connection);
        try {
            if constexpr (std::is_void_v<decltype(f(*lease.connection))>) {
                f(*lease.connection);
                commit(*lease.connection);
            } else {
                auto result = f(*lease.connection);
                commit(*lease.connection);
                return result;
            }
        } catch (...) {
            rollback(*lease.connection);
            throw;
        }
    }
    /// Runs `f(connection)` outside a transaction (one statement commits on its own).
    template <class F>
    auto run(F&& f) -> decltype(f(std::declval<Connection&>())) {
        Lease lease(*this);
        return f(*lease.connection);
    }
    /// Queues `job` for a worker thread and returns; the job runs `transact` itself.
    void post(std::function<void()> job);

  private:
    struct Lease {
        explicit Lease(Pool& pool);
        ~Lease();
        void release() noexcept;
        Pool& pool;
        std::unique_ptr<Connection> connection;
    };
    static void begin(Connection& c);
    static void commit(Connection& c);
    static void rollback(Connection& c) noexcept;
    void work(std::stop_token stop);

    std::mutex mutex_;
    std::condition_variable available_;   ///< a connection was returned
    std::condition_variable_any queued_;  ///< a job was posted
    std::vector<std::unique_ptr<Connection>> idle_;
    std::deque<std::function<void()>> jobs_;
    std::vector<std::jthread> workers_;
};

}  // namespace herald::detail::postgres
