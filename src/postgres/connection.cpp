#include "postgres/connection.hpp"
#include "util/hex.hpp"

#include <herald/error.hpp>

#include <libpq-fe.h>

#include <charconv>
#include <cmath>
#include <cstdlib>

#include <poll.h>

namespace herald::detail::postgres {
namespace {

/// libpq's message without its trailing newline.
std::string message_of(const char* text) {
    std::string message = text ? text : "";
    while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
        message.pop_back();
    return message.empty() ? "unknown error" : message;
}

[[noreturn]] void failed(const std::string& message) {
    throw Error(errc::storage_failure, "", "PostgreSQL: " + message);
}

void ignore_notice(void*, const char*) {}

}  // namespace

// ---- Params ----

Params& Params::add(std::string value, bool is_null, int format) {
    lengths_.push_back(static_cast<int>(value.size()));
    values_.push_back(std::move(value));
    nulls_.push_back(is_null);
    formats_.push_back(format);
    return *this;
}

Params& Params::text(std::string_view value) {
    return add(std::string(value), false, 0);
}

Params& Params::int64(std::int64_t value) {
    return add(std::to_string(value), false, 0);
}

Params& Params::real(double value) {
    if (std::isnan(value))
        return add("NaN", false, 0);
    if (std::isinf(value))
        return add(value > 0 ? "Infinity" : "-Infinity", false, 0);
    char buffer[32];
    const auto end = std::to_chars(buffer, buffer + sizeof buffer, value).ptr;
    return add(std::string(buffer, end), false, 0);
}

Params& Params::boolean(bool value) {
    return add(value ? "true" : "false", false, 0);
}

Params& Params::bytes(std::span<const unsigned char> value) {
    return add(std::string(value.begin(), value.end()), false, 1);
}

Params& Params::null() {
    return add({}, true, 0);
}

Params& Params::optional_int64(std::optional<std::int64_t> value) {
    return value ? int64(*value) : null();
}

Params& Params::array(const ArrayParam& value) {
    return add(value.str(), false, 0);
}

const char* const* Params::values() const {
    pointers_.clear();
    for (std::size_t i = 0; i < values_.size(); ++i)
        pointers_.push_back(nulls_[i] ? nullptr : values_[i].data());
    return pointers_.data();
}

// ---- ArrayParam ----

void ArrayParam::separate() {
    if (text_.size() > 1)
        text_ += ',';
}

ArrayParam& ArrayParam::text(std::string_view value) {
    separate();
    text_ += '"';
    for (char ch : value) {
        if (ch == '"' || ch == '\\')
            text_ += '\\';
        text_ += ch;
    }
    text_ += '"';
    return *this;
}

ArrayParam& ArrayParam::int64(std::int64_t value) {
    separate();
    text_ += std::to_string(value);
    return *this;
}

ArrayParam& ArrayParam::null() {
    separate();
    text_ += "NULL";
    return *this;
}

ArrayParam& ArrayParam::optional_int64(std::optional<std::int64_t> value) {
    return value ? int64(*value) : null();
}

// ---- Result ----

Result::Result(Result&& other) noexcept : result_(std::exchange(other.result_, nullptr)) {}

Result& Result::operator=(Result&& other) noexcept {
    if (this != &other) {
        PQclear(result_);
        result_ = std::exchange(other.result_, nullptr);
    }
    return *this;
}

Result::~Result() {
    PQclear(result_);
}

int Result::rows() const noexcept {
    return PQntuples(result_);
}

std::int64_t Result::changed() const {
    const char* text = PQcmdTuples(result_);
    return text && *text ? std::strtoll(text, nullptr, 10) : 0;
}

bool Result::is_null(int row, int column) const noexcept {
    return PQgetisnull(result_, row, column) != 0;
}

std::string_view Result::text(int row, int column) const noexcept {
    return {PQgetvalue(result_, row, column),
            static_cast<std::size_t>(PQgetlength(result_, row, column))};
}

std::int64_t Result::int64(int row, int column) const {
    const std::string_view t = text(row, column);
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
    if (ec != std::errc{} || end != t.data() + t.size())
        failed("column " + std::to_string(column) + " is not an integer");
    return value;
}

double Result::real(int row, int column) const {
    // from_chars, not strtod: the host's locale must not change how a number reads.
    const std::string_view t = text(row, column);
    double value = 0;
    const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
    if (ec != std::errc{} || end != t.data() + t.size())
        failed("column " + std::to_string(column) + " is not a number");
    return value;
}

bool Result::boolean(int row, int column) const noexcept {
    return text(row, column) == "t";
}

std::vector<unsigned char> Result::bytes(int row, int column) const {
    std::string_view t = text(row, column);
    if (!t.starts_with("\\x") || t.size() % 2 != 0)
        failed("column " + std::to_string(column) + " is not hex-encoded bytea");
    t.remove_prefix(2);
    std::vector<unsigned char> out;
    out.reserve(t.size() / 2);
    for (std::size_t i = 0; i < t.size(); i += 2) {
        const int high = hex_value(t[i]);
        const int low = hex_value(t[i + 1]);
        if (high < 0 || low < 0)
            failed("column " + std::to_string(column) + " is not hex-encoded bytea");
        out.push_back(static_cast<unsigned char>(high * 16 + low));
    }
    return out;
}

// ---- Connection ----

Connection::Connection(const std::string& conninfo, const std::string& schema)
    : conninfo_(conninfo), schema_(schema) {
    connect();
}

Connection::~Connection() {
    PQfinish(conn_);
}

void Connection::connect() {
    PQfinish(std::exchange(conn_, nullptr));
    // The conninfo is expanded as `dbname`; herald names its connections in pg_stat_activity
    // unless the conninfo (or PGAPPNAME) names them otherwise.
    const char* const keywords[] = {"dbname", "fallback_application_name", nullptr};
    const char* const values[] = {conninfo_.c_str(), "herald", nullptr};
    conn_ = PQconnectdbParams(keywords, values, 1);
    if (!conn_)
        failed("cannot connect: out of memory");
    if (PQstatus(conn_) != CONNECTION_OK) {
        std::string message = message_of(PQerrorMessage(conn_));
        PQfinish(std::exchange(conn_, nullptr));
        failed("cannot connect: " + message);
    }
    PQsetNoticeProcessor(conn_, ignore_notice, nullptr);
    try {
        exec("SELECT set_config('search_path', $1, false)",
             Params().text(quote_identifier(schema_)));
    } catch (...) {
        // Lost as soon as made (the server going away): not kept without its search path, nor
        // leaked by a constructor that throws.
        PQfinish(std::exchange(conn_, nullptr));
        throw;
    }
}

bool Connection::healthy() noexcept {
    if (!conn_ || PQstatus(conn_) != CONNECTION_OK)
        return false;
    // Between statements the server has nothing to say, but for a rare notice: what arrived
    // is its goodbye (a FATAL "terminating connection", then the end of the stream) after it
    // dropped the connection. libpq would tell only once the next statement failed; the
    // connection is made anew before that.
    pollfd readable{.fd = PQsocket(conn_), .events = POLLIN, .revents = 0};
    return ::poll(&readable, 1, 0) == 0;
}

void Connection::reconnect() {
    connect();
}

Result Connection::exec(std::string_view sql, const Params& params) {
    const std::string text(sql);
    Result result(PQexecParams(conn_, text.c_str(), params.size(), nullptr, params.values(),
                               params.lengths(), params.formats(), 0));
    check(result);
    return result;
}

void Connection::check(const Result& result) const {
    // A null result is out of memory or a lost connection; PQerrorMessage says which. On a
    // lost connection it also holds what the server said before it went ("terminating
    // connection due to administrator command"), the result only libpq's "server closed the
    // connection unexpectedly".
    if (!result.get())
        failed(message_of(PQerrorMessage(conn_)));
    const ExecStatusType status = PQresultStatus(result.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
        failed(message_of(PQstatus(conn_) == CONNECTION_OK ? PQresultErrorMessage(result.get())
                                                           : PQerrorMessage(conn_)));
}

void Connection::exec_script(std::string_view sql) {
    const std::string text(sql);
    check(Result(PQexec(conn_, text.c_str())));
}

std::string Connection::quote_identifier(std::string_view name) const {
    char* quoted = PQescapeIdentifier(conn_, name.data(), name.size());
    if (!quoted)
        failed(message_of(PQerrorMessage(conn_)));
    std::string out(quoted);
    PQfreemem(quoted);
    return out;
}

int Connection::socket() const noexcept {
    return PQsocket(conn_);
}

std::vector<std::string> Connection::notifications(std::string_view channel) {
    if (PQconsumeInput(conn_) == 0)
        failed(message_of(PQerrorMessage(conn_)));
    std::vector<std::string> payloads;
    while (PGnotify* n = PQnotifies(conn_)) {
        if (channel == n->relname)
            payloads.emplace_back(n->extra);
        PQfreemem(n);
    }
    return payloads;
}

// ---- Pool ----

Pool::Pool(std::string conninfo, std::string schema, std::size_t connections, std::size_t workers) {
    if (connections == 0 || workers == 0)
        throw Error(errc::invalid_argument, connections == 0 ? "connections" : "workers",
                    "must be at least 1");
    for (std::size_t i = 0; i < connections; ++i)
        idle_.push_back(std::make_unique<Connection>(conninfo, schema));
    for (std::size_t i = 0; i < workers; ++i)
        workers_.emplace_back([this](std::stop_token stop) { work(stop); });
}

Pool::~Pool() {
    stop();
}

void Pool::stop() {
    for (std::jthread& worker : workers_)
        worker.request_stop();
    workers_.clear();  // joins, after each has run what was queued
}

void Pool::post(std::function<void()> job) {
    {
        std::lock_guard lock(mutex_);
        jobs_.push_back(std::move(job));
    }
    queued_.notify_one();
}

void Pool::work(std::stop_token stop) {
    std::unique_lock lock(mutex_);
    for (;;) {
        queued_.wait(lock, stop, [&] { return !jobs_.empty(); });
        if (jobs_.empty())
            return;  // stopped with nothing left to run
        std::function<void()> job = std::move(jobs_.front());
        jobs_.pop_front();
        lock.unlock();
        job();
        lock.lock();
    }
}

Pool::Lease::Lease(Pool& p) : pool(p) {
    {
        std::unique_lock lock(pool.mutex_);
        pool.available_.wait(lock, [&] { return !pool.idle_.empty(); });
        connection = std::move(pool.idle_.back());
        pool.idle_.pop_back();
    }
    if (!connection->healthy()) {
        try {
            connection->reconnect();
        } catch (...) {
            release();
            throw;
        }
    }
}

Pool::Lease::~Lease() {
    release();
}

void Pool::Lease::release() noexcept {
    {
        std::lock_guard lock(pool.mutex_);
        pool.idle_.push_back(std::move(connection));
    }
    pool.available_.notify_one();
}

void Pool::begin(Connection& c) {
    c.exec("BEGIN");
}

void Pool::commit(Connection& c) {
    try {
        c.exec("COMMIT");
    } catch (const Error& e) {
        if (c.healthy())
            throw;  // refused (a deferred constraint): rolled back
        // The server may have committed before the connection went, or not; only a read on a
        // new connection can tell.
        throw Error(errc::storage_failure, e.field(),
                    e.reason() +
                        " (the connection was lost during COMMIT: whether the transaction "
                        "committed is not known)");
    }
}

void Pool::rollback(Connection& c) noexcept {
    try {
        if (c.healthy())
            c.exec("ROLLBACK");
    } catch (...) {
        // The connection is broken: the server rolls back, and the pool reconnects.
    }
}

}  // namespace herald::detail::postgres
