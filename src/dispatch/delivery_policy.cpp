#include "dispatch/delivery_policy.hpp"

#include "delivery/http_date.hpp"

#include <herald/delivery_error.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>

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

std::optional<std::chrono::nanoseconds> parse_retry_after(std::string_view value, Timestamp now) {
    // Longer waits are capped by RetryPolicy::max_retry_after anyway; this keeps them finite.
    constexpr std::int64_t longest_wait = std::int64_t{1} << 30;
    while (!value.empty() && value.front() == ' ')
        value.remove_prefix(1);
    while (!value.empty() && value.back() == ' ')
        value.remove_suffix(1);
    if (value.empty())
        return std::nullopt;
    std::uint64_t seconds = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec == std::errc{} && end == value.data() + value.size())
        return std::chrono::seconds{std::min<std::uint64_t>(seconds, longest_wait)};
    if (ec == std::errc::result_out_of_range && end == value.data() + value.size())
        return std::chrono::seconds{longest_wait};
    const auto date = parse_http_date(value, now);
    if (!date)
        return std::nullopt;
    // In seconds first: a date centuries away does not fit in a nanosecond Timestamp.
    const std::int64_t ahead =
        *date - std::chrono::floor<std::chrono::seconds>(now).time_since_epoch().count();
    if (ahead <= 0)
        return std::chrono::nanoseconds{0};
    if (ahead > longest_wait)
        return std::chrono::seconds{longest_wait};
    return Timestamp{std::chrono::seconds{*date}} - now;
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

bool FailureStreak::disables(Timestamp now,
                             std::chrono::milliseconds disable_after) const noexcept {
    return disable_after.count() > 0 && now - since_ >= disable_after;
}

unsigned FailureStreak::crossed(Timestamp now, std::chrono::milliseconds disable_after) noexcept {
    if (disable_after.count() <= 0)
        return 0;
    const auto failing = now - since_;
    unsigned reached = 0;
    for (unsigned percent : {50u, 70u, 90u})
        if (failing * 100 >= disable_after * percent)
            reached = percent;
    if (reached <= reported_)
        return 0;
    reported_ = reached;
    return reached;
}

}  // namespace herald::detail
