// herald/logger.hpp — where herald tells an operator what it is doing.
//
// A `Logger` is a level and a sink the host provides; herald hands the sink one `LogRecord` per
// event at or above the level: an event name ("delivery.failed", "breaker.opened") and fields
// (key/value), so an operator can filter. The default logger logs nothing:
//
// clang-format off
//     herald::EngineConfig config;
//     config.logger = herald::stderr_logger(herald::LogLevel::info);
//     config.logger = herald::Logger{herald::LogLevel::warning, [](const herald::LogRecord& r) {
//         std::clog << herald::format_log_line(r) << '\n';   // or the host's own logger
//     }};
// clang-format on
//
// No secret value ever reaches a sink: fields hold ids, names, endpoints (scheme, host, port)
// and the reasons herald records in the history, which are redacted already. Records name
// deliveries and integrations, never payloads, URLs with their paths, or headers.
#pragma once

#include <functional>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace herald {

/// How much a record matters, least first.
enum class LogLevel { debug, info, warning, error, off };

/// "debug", "info", "warning", "error", "off".
std::string_view to_string(LogLevel level) noexcept;
/// The level named `name` (as `to_string` writes it, or "warn"); nullopt otherwise.
std::optional<LogLevel> parse_log_level(std::string_view name) noexcept;

/// One key/value of a record; views into what the caller holds during the call.
struct LogField {
    std::string_view key;
    std::string_view value;
};

/// One thing herald did or saw. Views valid for the duration of the sink's call only.
struct LogRecord {
    LogLevel level = LogLevel::info;
    std::string_view event;  ///< dotted, stable: "delivery.failed", "storage.failed", ...
    std::span<const LogField> fields;

    /// The value of field `key`; nullopt when the record has none.
    std::optional<std::string_view> field(std::string_view key) const noexcept;
};

/// A level and a sink. Value type; copies share the sink. The sink is called from whichever
/// thread herald logs on (the dispatcher's executor, a publishing thread, SQLite's commit
/// threads) and possibly from several at once: it must be thread-safe and must not block for
/// long. A sink that throws is ignored.
class Logger {
  public:
    using Sink = std::function<void(const LogRecord&)>;

    /// Logs nothing.
    Logger() = default;
    /// Hands `sink` the records at `level` and above.
    Logger(LogLevel level, Sink sink)
        : level_(sink ? level : LogLevel::off), sink_(std::move(sink)) {}

    LogLevel level() const noexcept { return level_; }
    /// Whether a record at `level` reaches the sink; check before building costly fields.
    bool enabled(LogLevel level) const noexcept {
        return level >= level_ && level != LogLevel::off;
    }
    /// Hands the sink a record when `level` is enabled.
    void log(LogLevel level, std::string_view event,
             std::initializer_list<LogField> fields = {}) const noexcept {
        if (enabled(level))
            emit(level, event, std::span<const LogField>(fields.begin(), fields.size()));
    }

  private:
    void emit(LogLevel level, std::string_view event,
              std::span<const LogField> fields) const noexcept;

    LogLevel level_ = LogLevel::off;
    Sink sink_;
};

/// One line in logfmt: `level=warning event=delivery.failed delivery=… reason="HTTP 500"`;
/// values with spaces, quotes, `=` or control characters are quoted and escaped.
std::string format_log_line(const LogRecord& record);

/// Writes each record at `level` and above to stderr as one `format_log_line` line.
Logger stderr_logger(LogLevel level);

}  // namespace herald
