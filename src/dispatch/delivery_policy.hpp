// The failure policy of deliveries as plain functions and state machines: what an attempt's
// outcome means, when to try again, when an endpoint's breaker opens, when an integration is
// given up. No sockets, no clocks: the dispatcher passes the time in.
#pragma once

#include <herald/clock.hpp>
#include <herald/dispatcher.hpp>

#include <boost/system/error_code.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace herald::detail {

/// What one attempt's outcome means for its delivery.
enum class Verdict {
    success,              ///< done
    retry,                ///< try again on the schedule
    fail,                 ///< done, failed; no retry
    disable_integration,  ///< failed, and the integration must be disabled (410 Gone)
};

/// The verdict on an HTTP status: 2xx success; 408, 425, 429, 5xx retry; 410 disables; the rest
/// (1xx, 3xx, other 4xx) fail.
Verdict classify_status(unsigned status) noexcept;
/// The verdict on an attempt that got no response: a destination refused by the SSRF rules or
/// a malformed URL fails (trying again cannot help); every other network error retries.
Verdict classify_error(boost::system::error_code ec) noexcept;

/// The wait a `Retry-After` value asks for: delta-seconds or an HTTP-date (relative to `now`);
/// nullopt when malformed. A date in the past asks for no wait.
std::optional<std::chrono::nanoseconds> parse_retry_after(std::string_view value, Timestamp now);

/// What to do with a delivery after an attempt.
struct Settlement {
    enum class Kind { finish, retry, fail, dead, disable_integration };
    Kind kind = Kind::finish;
    Timestamp due{};  ///< retry only
};

/// Settles a delivery after its `attempts_made`-th attempt (1 for the first) with `verdict`.
/// `unit_random` in [0, 1) picks the jitter; `retry_after` is what the receiver asked for.
Settlement settle_attempt(const RetryPolicy& policy, int attempts_made, Verdict verdict,
                          std::optional<std::chrono::nanoseconds> retry_after, Timestamp now,
                          double unit_random);

/// One endpoint's circuit breaker: closed → (threshold consecutive failures) → open →
/// (open_for elapsed) → half-open, one probe → closed on success, open twice as long on
/// failure.
class CircuitBreaker {
  public:
    enum class State { closed, open, half_open };

    explicit CircuitBreaker(CircuitBreakerPolicy policy) : policy_(policy) {}

    /// Whether an attempt may start now; in half-open state only one (the probe) may.
    bool allow(Timestamp now);
    /// When `allow` may next say yes (meaningful while open).
    Timestamp open_until() const noexcept { return open_until_; }
    State state() const noexcept { return state_; }
    /// Closed, with no failure since the last success: as a new breaker is.
    bool at_rest() const noexcept { return state_ == State::closed && consecutive_failures_ == 0; }

    /// An attempt reached the endpoint and it answered sensibly (anything but a retry verdict).
    void on_success();
    /// An attempt failed in a way that says the endpoint is unwell (a retry verdict).
    void on_failure(Timestamp now);
    /// An allowed attempt ended without telling anything about the endpoint (cancelled).
    void on_abandoned();

  private:
    void open(Timestamp now);

    CircuitBreakerPolicy policy_;
    State state_ = State::closed;
    std::size_t consecutive_failures_ = 0;
    std::chrono::milliseconds current_open_for_{};
    Timestamp open_until_{};
    bool probe_in_flight_ = false;
};

/// Whether an integration has failed long enough to be disabled, from when its streak began
/// as the store holds it (shared by every process on the store, kept across restarts).
class FailureStreak {
  public:
    /// The stored streak began at `since`; a start other than the one known is a new streak,
    /// reported afresh.
    void stored(Timestamp since) noexcept {
        if (since == since_)
            return;
        since_ = since;
        reported_ = 0;
    }
    /// Whether it has been failing for at least `disable_after` at `now` (never when that is
    /// zero).
    bool disables(Timestamp now, std::chrono::milliseconds disable_after) const noexcept;
    /// The highest of 50, 70 and 90 (% of `disable_after`) that the streak has reached at
    /// `now` and not reported before in this streak; 0 when none.
    unsigned crossed(Timestamp now, std::chrono::milliseconds disable_after) noexcept;
    Timestamp since() const noexcept { return since_; }

  private:
    Timestamp since_{};
    unsigned reported_ = 0;  ///< the highest percentage `crossed` returned in this streak
};

}  // namespace herald::detail
