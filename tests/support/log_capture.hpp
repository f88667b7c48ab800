// Keeps every record a herald::Logger is handed, for tests that check what herald logs (and
// that no secret is among it); header-only, test code only:
//
//     herald::test::LogCapture logs;
//     config.logger = logs.logger();
//     ...
//     CHECK(logs.of("delivery.dead").size() == 1);
#pragma once

#include <herald/logger.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace herald::test {

struct CapturedRecord {
    LogLevel level = LogLevel::info;
    std::string event;
    std::map<std::string, std::string> fields;
    std::string line;  ///< as format_log_line writes it
};

/// Thread-safe: SQLite's commit threads log too. Copies of its logger outlive it safely.
class LogCapture {
  public:
    /// A logger handing this capture every record at `level` and above.
    Logger logger(LogLevel level = LogLevel::debug) const {
        return Logger(level, [state = state_](const LogRecord& r) {
            CapturedRecord c{
                .level = r.level, .event = std::string(r.event), .line = format_log_line(r)};
            for (const LogField& f : r.fields)
                c.fields.emplace(std::string(f.key), std::string(f.value));
            std::lock_guard lock(state->mutex);
            state->records.push_back(std::move(c));
        });
    }

    std::vector<CapturedRecord> records() const {
        std::lock_guard lock(state_->mutex);
        return state_->records;
    }
    /// The records of one event, in order.
    std::vector<CapturedRecord> of(const std::string& event) const {
        std::vector<CapturedRecord> out;
        for (CapturedRecord& r : records())
            if (r.event == event)
                out.push_back(std::move(r));
        return out;
    }
    /// Every record's line, one a line.
    std::string text() const {
        std::string out;
        for (const CapturedRecord& r : records())
            out += r.line + '\n';
        return out;
    }

  private:
    struct State {
        std::mutex mutex;
        std::vector<CapturedRecord> records;
    };
    std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace herald::test
