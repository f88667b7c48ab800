#include "dispatch/delivery_policy.hpp"
#include "delivery/http_date.hpp"

#include <herald/delivery_error.hpp>

#include <boost/asio/error.hpp>
#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using herald::detail::CircuitBreaker;
using herald::detail::Settlement;
using herald::detail::Verdict;

namespace {
const herald::Timestamp t0{std::chrono::hours{1000}};
}

TEST_CASE("HTTP statuses map to finish, retry, fail and disable verdicts", "[dispatch]") {
    using herald::detail::classify_status;
    CHECK(classify_status(200) == Verdict::success);
    CHECK(classify_status(204) == Verdict::success);
    CHECK(classify_status(299) == Verdict::success);
    CHECK(classify_status(301) == Verdict::fail);
    CHECK(classify_status(304) == Verdict::fail);
    CHECK(classify_status(100) == Verdict::fail);
    CHECK(classify_status(400) == Verdict::fail);
    CHECK(classify_status(401) == Verdict::fail);
    CHECK(classify_status(404) == Verdict::fail);
    CHECK(classify_status(408) == Verdict::retry);
    CHECK(classify_status(410) == Verdict::disable_integration);
    CHECK(classify_status(425) == Verdict::retry);
    CHECK(classify_status(429) == Verdict::retry);
    CHECK(classify_status(500) == Verdict::retry);
    CHECK(classify_status(503) == Verdict::retry);
    CHECK(classify_status(599) == Verdict::retry);
}

TEST_CASE("network errors retry, refused destinations fail", "[dispatch]") {
    using herald::delivery_errc;
    using herald::detail::classify_error;
    CHECK(classify_error(delivery_errc::ssrf_refused) == Verdict::fail);
    CHECK(classify_error(delivery_errc::bad_url) == Verdict::fail);
    CHECK(classify_error(delivery_errc::bad_request) == Verdict::fail);
    CHECK(classify_error(delivery_errc::timeout) == Verdict::retry);
    CHECK(classify_error(delivery_errc::connection_reset) == Verdict::retry);
    CHECK(classify_error(delivery_errc::connect_failed) == Verdict::retry);
    CHECK(classify_error(delivery_errc::tls_failed) == Verdict::retry);
    CHECK(classify_error(boost::asio::error::host_not_found) == Verdict::retry);
}

TEST_CASE("Retry-After is read as seconds or an HTTP date", "[dispatch]") {
    using herald::detail::parse_retry_after;
    CHECK(parse_retry_after("7", t0) == 7s);
    CHECK(parse_retry_after(" 120 ", t0) == 120s);
    CHECK(parse_retry_after("0", t0) == 0s);
    const herald::Timestamp now{std::chrono::sys_days{std::chrono::year{1994} / 11 / 6} + 8h +
                                49min + 30s};
    CHECK(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now) == 7s);
    CHECK(parse_retry_after("Sun, 06 Nov 1994 08:49:00 GMT", now) == 0s);
    CHECK_FALSE(parse_retry_after("", t0));
    CHECK_FALSE(parse_retry_after("-5", t0));
    CHECK_FALSE(parse_retry_after("soon", t0));
    CHECK_FALSE(parse_retry_after("Sun, 06 Nov 1994 08:49:37 CET", t0));
}

TEST_CASE("Retry-After reads the three HTTP date forms and nothing near them", "[dispatch]") {
    using herald::detail::parse_retry_after;
    const herald::Timestamp now{std::chrono::sys_days{std::chrono::year{1994} / 11 / 6} + 8h +
                                49min + 30s + 250ms};
    CHECK(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now) == 6750ms);
    CHECK(parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", now) == 6750ms);
    CHECK(parse_retry_after("Sun Nov  6 08:49:37 1994", now) == 6750ms);
    CHECK(parse_retry_after("Sun Nov 06 08:49:37 1994", now) == 6750ms);
    // A leap second counts as the next second; Feb 29 only in a leap year.
    CHECK(parse_retry_after("Sun, 06 Nov 1994 08:49:60 GMT", now) == 29750ms);
    CHECK(parse_retry_after("Thu, 29 Feb 1996 00:00:00 GMT", now));
    for (const char* malformed : {
             "Sun, 29 Feb 1995 00:00:00 GMT",    // no such day
             "Sun, 31 Nov 1994 08:49:37 GMT",    // no such day
             "Sun, 00 Nov 1994 08:49:37 GMT",    // no such day
             "Sun, 06 Nov 1994 24:00:00 GMT",    // no such hour
             "Sun, 06 Nov 1994 08:60:00 GMT",    // no such minute
             "Sun, 06 Nov 1994 08:49:61 GMT",    // no such second
             "Sun, +6 Nov 1994 08:49:37 GMT",    // a sign is not a digit
             "Sun,  6 Nov 1994 08:49:37 GMT",    // IMF-fixdate pads with a zero
             "Sun, 6 Nov 1994 08:49:37 GMT",     // two digits
             "sun, 06 nov 1994 08:49:37 gmt",    // names are case-sensitive
             "Sun, 06 Nov 1994 08:49:37 GMT x",  // nothing after
             "Sun, 06 Nov 94 08:49:37 GMT",      // four-digit year
             "Sun, 06 Nov -2147483648 08:49:37 GMT",
             "Sun, 06 Nov 1994 8:49:37 GMT",
             "Funday, 06-Nov-94 08:49:37 GMT",
             "Sun Nov  6 08:49:37 94",
         })
        CHECK_FALSE(parse_retry_after(malformed, now));
}

TEST_CASE("an HTTP date far away asks for no wait or the longest one", "[dispatch]") {
    using herald::detail::parse_retry_after;
    const herald::Timestamp now{std::chrono::sys_days{std::chrono::year{2026} / 12 / 2}};
    // Neither fits in a nanosecond Timestamp: read in seconds, then bounded.
    CHECK(parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now) == std::chrono::seconds{1 << 30});
    CHECK(parse_retry_after("Sat, 01 Jan 0000 00:00:00 GMT", now) == 0s);
    CHECK(parse_retry_after("99999999999999999999999", now) == std::chrono::seconds{1 << 30});
    CHECK_FALSE(parse_retry_after("99999999999999999999999x", now));
}

TEST_CASE("a two-digit year is the one at most 50 years ahead", "[dispatch]") {
    using herald::detail::parse_http_date;
    const herald::Timestamp now{std::chrono::sys_days{std::chrono::year{2026} / 12 / 2}};
    const auto year_of = [&](const char* text) {
        const auto seconds = parse_http_date(text, now);
        REQUIRE(seconds);
        const std::chrono::sys_days day{std::chrono::floor<std::chrono::days>(
            std::chrono::sys_seconds{std::chrono::seconds{*seconds}})};
        return static_cast<int>(std::chrono::year_month_day{day}.year());
    };
    CHECK(year_of("Monday, 01-Jan-26 00:00:00 GMT") == 2026);
    CHECK(year_of("Monday, 01-Jan-76 00:00:00 GMT") == 2076);
    CHECK(year_of("Monday, 01-Jan-77 00:00:00 GMT") == 1977);
    CHECK(year_of("Monday, 01-Jan-94 00:00:00 GMT") == 1994);
}

TEST_CASE("the default schedule is 8 attempts, then dead", "[dispatch]") {
    const herald::RetryPolicy policy;
    const std::chrono::nanoseconds expected[] = {5s, 5min, 30min, 2h, 5h, 10h, 10h};
    // attempt 1 went out immediately; after attempt k fails the wait is schedule[k]
    for (int made = 1; made <= 7; ++made) {
        const Settlement s = settle_attempt(policy, made, Verdict::retry, {}, t0, 0.5);
        REQUIRE(s.kind == Settlement::Kind::retry);
        CHECK(s.due - t0 == expected[made - 1]);
    }
    CHECK(settle_attempt(policy, 8, Verdict::retry, {}, t0, 0.5).kind == Settlement::Kind::dead);
}

TEST_CASE("jitter stays within plus or minus 20 percent", "[dispatch]") {
    const herald::RetryPolicy policy;
    CHECK(settle_attempt(policy, 1, Verdict::retry, {}, t0, 0.0).due - t0 == 4s);
    CHECK(settle_attempt(policy, 1, Verdict::retry, {}, t0, 0.999999).due - t0 > 5999ms);
    CHECK(settle_attempt(policy, 1, Verdict::retry, {}, t0, 0.999999).due - t0 <= 6s);
    CHECK(settle_attempt(policy, 2, Verdict::retry, {}, t0, 0.25).due - t0 == 270s);
}

TEST_CASE("Retry-After lengthens the wait, up to the bound", "[dispatch]") {
    herald::RetryPolicy policy;
    policy.max_retry_after = 1h;
    CHECK(settle_attempt(policy, 1, Verdict::retry, 60s, t0, 0.5).due - t0 == 60s);
    CHECK(settle_attempt(policy, 1, Verdict::retry, 1s, t0, 0.5).due - t0 == 5s);
    CHECK(settle_attempt(policy, 1, Verdict::retry, 48h, t0, 0.5).due - t0 == 1h);
    CHECK(settle_attempt(policy, 4, Verdict::retry, 60s, t0, 0.5).due - t0 == 2h);
}

TEST_CASE("non-retry verdicts settle at once", "[dispatch]") {
    const herald::RetryPolicy policy;
    CHECK(settle_attempt(policy, 1, Verdict::success, {}, t0, 0.5).kind ==
          Settlement::Kind::finish);
    CHECK(settle_attempt(policy, 1, Verdict::fail, {}, t0, 0.5).kind == Settlement::Kind::fail);
    CHECK(settle_attempt(policy, 1, Verdict::disable_integration, {}, t0, 0.5).kind ==
          Settlement::Kind::disable_integration);
    const herald::RetryPolicy once{.schedule = {0s}};
    CHECK(settle_attempt(once, 1, Verdict::retry, {}, t0, 0.5).kind == Settlement::Kind::dead);
}

TEST_CASE("the breaker opens after consecutive failures and probes once", "[dispatch]") {
    CircuitBreaker breaker{{.failure_threshold = 3, .open_for = 30s, .max_open_for = 100s}};
    for (int i = 0; i < 2; ++i) {
        REQUIRE(breaker.allow(t0));
        breaker.on_failure(t0);
    }
    breaker.on_success();
    for (int i = 0; i < 3; ++i) {
        REQUIRE(breaker.allow(t0));
        breaker.on_failure(t0);
    }
    CHECK(breaker.state() == CircuitBreaker::State::open);
    CHECK_FALSE(breaker.allow(t0 + 29s));
    CHECK(breaker.open_until() == t0 + 30s);

    CHECK(breaker.allow(t0 + 30s));  // the probe
    CHECK(breaker.state() == CircuitBreaker::State::half_open);
    CHECK_FALSE(breaker.allow(t0 + 30s));
    breaker.on_failure(t0 + 31s);
    CHECK(breaker.open_until() == t0 + 31s + 60s);
    CHECK(breaker.allow(t0 + 91s));
    breaker.on_failure(t0 + 91s);
    CHECK(breaker.open_until() == t0 + 91s + 100s);  // capped

    CHECK(breaker.allow(t0 + 191s));
    breaker.on_abandoned();
    CHECK(breaker.allow(t0 + 191s));
    breaker.on_success();
    CHECK(breaker.state() == CircuitBreaker::State::closed);
    CHECK(breaker.allow(t0 + 191s));
    CHECK(breaker.allow(t0 + 191s));
}

TEST_CASE("a breaker with threshold 0 never opens", "[dispatch]") {
    CircuitBreaker breaker{{.failure_threshold = 0}};
    for (int i = 0; i < 100; ++i)
        breaker.on_failure(t0);
    CHECK(breaker.allow(t0));
}

TEST_CASE("an integration failing for the configured time is to be disabled", "[dispatch]") {
    herald::detail::FailureStreak streak;
    streak.stored(t0);
    CHECK_FALSE(streak.disables(t0, 120h));
    CHECK_FALSE(streak.disables(t0 + 119h, 120h));
    CHECK(streak.disables(t0 + 120h, 120h));
    streak.stored(t0 + 119h);  // a success, and a new streak
    CHECK(streak.since() == t0 + 119h);
    CHECK_FALSE(streak.disables(t0 + 238h, 120h));
    CHECK(streak.disables(t0 + 239h, 120h));
    CHECK_FALSE(streak.disables(t0 + 1000h, 0h));
}

TEST_CASE("a failing streak reports 50, 70 and 90 % of the disable time once each", "[dispatch]") {
    herald::detail::FailureStreak streak;
    streak.stored(t0);
    const auto at = [&](std::chrono::hours h) { return streak.crossed(t0 + h, 100h); };
    CHECK(at(0h) == 0);
    CHECK(at(49h) == 0);
    CHECK(at(50h) == 50);
    CHECK(at(60h) == 0);   // reported already
    CHECK(at(95h) == 90);  // 70 was skipped over: only the highest is told
    CHECK(at(99h) == 0);
    streak.stored(t0);  // the same streak, stored again: nothing reported twice
    CHECK(at(99h) == 0);
    streak.stored(t0 + 100h);  // a new streak reports again
    CHECK(at(100h) == 0);
    CHECK(at(170h) == 70);
    herald::detail::FailureStreak never;
    never.stored(t0);
    CHECK(never.crossed(t0 + 1000h, 0h) == 0);
}
