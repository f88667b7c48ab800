#include "dispatch/delivery_policy.hpp"

#include <herald/delivery_error.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <ctime>

namespace herald::detail {

Verdict classify_status(unsigned status) noexcept {
    if (status >= 200 && status < 300)
        return Verdict::success;
    if (status == 410)
        return Verdict::disable_integration;
    if (status == 408 || status == 425 || status == 429 || (status >= 500 && status < 600))
        return Verdict::retry;
    return Verdict::fail;
}

Verdict classify_error(boost::system::error_code ec) noexcept {
    // A request that can never be sent as it is fails at once: sending it again changes nothing.
    if (ec == delivery_errc::ssrf_refused || ec == delivery_errc::bad_url ||
        ec == delivery_errc::bad_request)
        return Verdict::fail;
    return Verdict::retry;
}

namespace {

/// "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 IMF-fixdate, the form senders must use).
std::optional<Timestamp> parse_http_date(std::string_view text) {
    std::tm tm{};
    char weekday[4] = {}, month[4] = {}, zone[4] = {};
    const std::string s(text);
    if (std::sscanf(s.c_str(), "%3s, %d %3s %d %d:%d:%d %3s", weekday, &tm.tm_mday, month,
                    &tm.tm_year, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, zone) != 8 ||
        std::string_view(zone) != "GMT")
        return std::nullopt;
    static constexpr std::string_view months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    auto m = std::find(std::begin(months), std::end(months), std::string_view(month));
    if (m == std::end(months))
        return std::nullopt;
    tm.tm_mon = static_cast<int>(m - std::begin(months));
    tm.tm_year -= 1900;
    const std::time_t t = timegm(&tm);
    if (t == -1)
        return std::nullopt;
    return Timestamp{std::chrono::seconds{t}};
}

}  // namespace

std::optional<std::chrono::nanoseconds> parse_retry_after(std::string_view value, Timestamp now) {
    while (!value.empty() && value.front() == ' ')
        value.remove_prefix(1);
    while (!value.empty() && value.back() == ' ')
        value.remove_suffix(1);
    if (value.empty())
        return std::nullopt;
    std::uint64_t seconds = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec == std::errc{} && end == value.data() + value.size())
        return std::chrono::seconds{std::min<std::uint64_t>(seconds, 1u << 30)};
    if (ec == std::errc::result_out_of_range)
        return std::chrono::seconds{1u << 30};
    const auto date = parse_http_date(value);
    if (!date)
        return std::nullopt;
    return std::max(std::chrono::nanoseconds{0}, *date - now);
}

Settlement settle_attempt(const RetryPolicy& policy, int attempts_made, Verdict verdict,
                          std::optional<std::chrono::nanoseconds> retry_after, Timestamp now,
                          double unit_random) {
    switch (verdict) {
        case Verdict::success:
            return {Settlement::Kind::finish};
        case Verdict::fail:
            return {Settlement::Kind::fail};
        case Verdict::disable_integration:
            return {Settlement::Kind::disable_integration};
        case Verdict::retry:
            break;
    }
    if (attempts_made < 0 || static_cast<std::size_t>(attempts_made) >= policy.schedule.size())
        return {Settlement::Kind::dead};
    const double factor = 1.0 + policy.jitter * (2.0 * unit_random - 1.0);
    const auto scheduled = std::chrono::nanoseconds{static_cast<std::int64_t>(std::llround(
        static_cast<double>(std::chrono::nanoseconds{policy.schedule[attempts_made]}.count()) *
        factor))};
    std::chrono::nanoseconds wait = scheduled;
    if (retry_after)
        wait = std::max(wait,
                        std::min<std::chrono::nanoseconds>(*retry_after, policy.max_retry_after));
    return {Settlement::Kind::retry, now + wait};
}

bool CircuitBreaker::allow(Timestamp now) {
    switch (state_) {
        case State::closed:
            return true;
        case State::open:
            if (now < open_until_)
                return false;
            state_ = State::half_open;
            probe_in_flight_ = false;
            [[fallthrough]];
        case State::half_open:
            if (probe_in_flight_)
                return false;
            probe_in_flight_ = true;
            return true;
    }
    return true;
}

void CircuitBreaker::on_success() {
    state_ = State::closed;
    consecutive_failures_ = 0;
    current_open_for_ = {};
    probe_in_flight_ = false;
}

void CircuitBreaker::on_failure(Timestamp now) {
    if (policy_.failure_threshold == 0)
        return;
    if (state_ == State::half_open) {
        current_open_for_ = std::min(current_open_for_ * 2, policy_.max_open_for);
        open(now);
        return;
    }
    if (state_ == State::open)
        return;  // an attempt that started before the breaker opened
    if (++consecutive_failures_ >= policy_.failure_threshold) {
        current_open_for_ = policy_.open_for;
        open(now);
    }
}

void CircuitBreaker::on_abandoned() {
    if (state_ == State::half_open)
        probe_in_flight_ = false;
}

void CircuitBreaker::open(Timestamp now) {
    state_ = State::open;
    probe_in_flight_ = false;
    open_until_ = now + current_open_for_;
}

bool FailureStreak::on_failure(Timestamp now, std::chrono::milliseconds disable_after) {
    if (!failing_since_)
        failing_since_ = now;
    return disable_after.count() > 0 && now - *failing_since_ >= disable_after;
}

}  // namespace herald::detail
