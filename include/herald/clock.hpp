// herald/clock.hpp — where herald reads the time.
//
// Everything time-dependent (cooldowns, retry schedules, timestamps in records) asks a `Clock`,
// so tests drive time exactly with `ManualClock`:
//
// clang-format off
//     herald::ManualClock clock{herald::Timestamp{std::chrono::hours{1}}};
//     clock.advance(std::chrono::hours{24});
// clang-format on
#pragma once

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace herald {

/// Wall-clock time with nanosecond resolution, UTC.
using Timestamp = std::chrono::time_point<std::chrono::system_clock, std::chrono::nanoseconds>;

/// A source of the current time. Implementations must be thread-safe.
class Clock {
  public:
    virtual ~Clock() = default;
    virtual Timestamp now() const = 0;
};

/// The system's real-time clock.
class SystemClock final : public Clock {
  public:
    Timestamp now() const override;
};

/// A clock that moves only when told to; thread-safe.
class ManualClock final : public Clock {
  public:
    explicit ManualClock(Timestamp start = Timestamp{}) : now_{start.time_since_epoch().count()} {}

    Timestamp now() const override { return Timestamp{std::chrono::nanoseconds{now_.load()}}; }
    void set(Timestamp t) { now_.store(t.time_since_epoch().count()); }
    void advance(std::chrono::nanoseconds d) { now_.fetch_add(d.count()); }

  private:
    std::atomic<std::chrono::nanoseconds::rep> now_;
};

/// RFC 3339 text in UTC with the fractional seconds that are not zero, e.g.
/// "2026-11-22T12:25:44.5Z".
std::string format_rfc3339(Timestamp t);
/// Parses RFC 3339 text ("2026-11-22T12:25:44Z", "...44.5+02:00"); nullopt when malformed.
std::optional<Timestamp> parse_rfc3339(std::string_view text);

}  // namespace herald
