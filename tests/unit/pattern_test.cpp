#include <herald/error.hpp>
#include <herald/pattern.hpp>

#include <catch2/catch.hpp>

#include <string>

using herald::Pattern;

TEST_CASE("a plain string is an exact match", "[pattern]") {
    Pattern p{"production"};
    CHECK(p.is_exact());
    CHECK(p.matches("production"));
    CHECK_FALSE(p.matches("production-eu"));
    CHECK_FALSE(p.matches("pre-production"));
    CHECK_FALSE(p.matches("Production"));
}

TEST_CASE("a regular expression matches where it is found, anchors make it whole", "[pattern]") {
    Pattern anchored{"^prod.*$"};
    CHECK_FALSE(anchored.is_exact());
    CHECK(anchored.matches("production"));
    CHECK(anchored.matches("prod"));
    CHECK_FALSE(anchored.matches("preprod"));

    Pattern unanchored{"prod.*"};
    CHECK(unanchored.matches("preprod"));
}

TEST_CASE("a dot is a metacharacter, so v1.0 is a regular expression", "[pattern]") {
    Pattern p{"v1.0"};
    CHECK_FALSE(p.is_exact());
    CHECK(p.matches("v1x0"));
}

TEST_CASE("patterns that do not compile are refused with the reason", "[pattern]") {
    try {
        Pattern{"(unclosed"};
        FAIL("expected an error");
    } catch (const herald::Error& e) {
        CHECK(e.code() == herald::errc::invalid_argument);
        CHECK_THAT(e.reason(), Catch::Contains("(unclosed") && Catch::Contains("missing )"));
    }
    CHECK_THROWS_AS(Pattern{""}, herald::Error);
}

TEST_CASE("catastrophic-backtracking patterns run in linear time", "[pattern]") {
    // (a+)+$ takes exponential time in a backtracking engine on "aaaa...b"; RE2 does not backtrack.
    Pattern p{"^(a+)+$"};
    const std::string hostile = std::string(100'000, 'a') + "b";
    CHECK_FALSE(p.matches(hostile));
    CHECK(p.matches(std::string(100'000, 'a')));
}
