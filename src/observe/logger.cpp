#include <herald/logger.hpp>

#include <array>
#include <cstdio>
#include <mutex>

namespace herald {

namespace {

constexpr std::array<std::string_view, 5> level_names = {"debug", "info", "warning", "error",
                                                         "off"};

bool needs_quotes(std::string_view value) {
    if (value.empty())
        return true;
    for (const char c : value)
        if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20)
            return true;
    return false;
}

void append_value(std::string& out, std::string_view value) {
    if (!needs_quotes(value)) {
        out += value;
        return;
    }
    out += '"';
    for (const char c : value) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    static constexpr char hex[] = "0123456789abcdef";
                    out += "\\x";
                    out += hex[(c >> 4) & 0xf];
                    out += hex[c & 0xf];
                } else {
                    out += c;
                }
        }
    }
    out += '"';
}

}  // namespace

std::string_view to_string(LogLevel level) noexcept {
    return level_names[static_cast<std::size_t>(level)];
}

std::optional<LogLevel> parse_log_level(std::string_view name) noexcept {
    for (std::size_t i = 0; i < level_names.size(); ++i)
        if (name == level_names[i])
            return static_cast<LogLevel>(i);
    if (name == "warn")
        return LogLevel::warning;
    return std::nullopt;
}

std::optional<std::string_view> LogRecord::field(std::string_view key) const noexcept {
    for (const LogField& f : fields)
        if (f.key == key)
            return f.value;
    return std::nullopt;
}

void Logger::emit(LogLevel level, std::string_view event,
                  std::span<const LogField> fields) const noexcept {
    try {
        sink_(LogRecord{.level = level, .event = event, .fields = fields});
    } catch (...) {
        // A failing sink must not take down the delivery it reports on.
    }
}

std::string format_log_line(const LogRecord& record) {
    std::string line = "level=";
    line += to_string(record.level);
    line += " event=";
    append_value(line, record.event);
    for (const LogField& f : record.fields) {
        line += ' ';
        line += f.key;
        line += '=';
        append_value(line, f.value);
    }
    return line;
}

Logger stderr_logger(LogLevel level) {
    return Logger(level, [](const LogRecord& record) {
        std::string line = format_log_line(record);
        line += '\n';
        static std::mutex mutex;  // one line at a time from every thread
        std::lock_guard lock(mutex);
        std::fwrite(line.data(), 1, line.size(), stderr);
    });
}

}  // namespace herald
