#include <herald/clock.hpp>

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using herald::Timestamp;

TEST_CASE("RFC 3339 formatting and parsing round-trip", "[clock]") {
    const Timestamp t{std::chrono::sys_days{std::chrono::year{2026} / 11 / 22}.time_since_epoch() +
                      12h + 25min + 44s + 500ms};
    CHECK(herald::format_rfc3339(t) == "2026-11-22T12:25:44.5Z");
    CHECK(herald::parse_rfc3339("2026-11-22T12:25:44.5Z") == t);
    CHECK(herald::parse_rfc3339("2026-11-22T14:25:44.500+02:00") == t);
    CHECK(herald::format_rfc3339(Timestamp{}) == "1970-01-01T00:00:00Z");
}

TEST_CASE("malformed RFC 3339 text is refused", "[clock]") {
    for (const char* bad :
         {"", "2026-11-22", "2026-11-22T12:25:44", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
          "2026-11-22T12:25:44.Z", "2026-11-22T12:25:44Zjunk", "2026-11-22 12:25:44Z"})
        CHECK_FALSE(herald::parse_rfc3339(bad).has_value());
}

TEST_CASE("RFC 3339 times a Timestamp cannot hold are refused rather than wrapped around",
          "[clock]") {
    for (const char* far : {"0026-11-22T10:00:00Z", "1677-09-21T00:00:00Z", "2262-04-12T00:00:00Z",
                            "9999-12-31T23:59:59Z"})
        CHECK_FALSE(herald::parse_rfc3339(far).has_value());
    for (const char* edge : {"1677-09-23T00:00:00Z", "2262-04-10T23:00:00.999999999Z"}) {
        const auto t = herald::parse_rfc3339(edge);
        REQUIRE(t.has_value());
        CHECK(herald::format_rfc3339(*t) == edge);
    }
}

TEST_CASE("a manual clock moves only when told", "[clock]") {
    herald::ManualClock clock{Timestamp{1h}};
    CHECK(clock.now() == Timestamp{1h});
    clock.advance(24h);
    CHECK(clock.now() == Timestamp{25h});
    clock.set(Timestamp{2h});
    CHECK(clock.now() == Timestamp{2h});
}
