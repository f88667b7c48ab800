// Where a send goes, read from its URL before any I/O (src/delivery/request_target.hpp); the
// same rules through the HTTP client, with a live receiver, are in tests/live/http_client_test.cpp.
#include "delivery/request_target.hpp"

#include <boost/url/parse.hpp>

#include <catch2/catch.hpp>

#include <string>

namespace {

using namespace herald::detail;

const AddressPolicy open_policy{herald::SsrfPolicy{.allowed_subnets = {"0.0.0.0/0", "::/0"}}};

Route route_of(const std::string& text, const AddressPolicy& policy = open_policy) {
    const auto url = boost::urls::parse_absolute_uri(text);
    REQUIRE(url);
    return route_request(*url, policy);
}

TEST_CASE("a URL's target is its scheme, decoded host, port and origin-form path", "[url]") {
    const auto route = route_of("HTTPS://Hooks.Example.:8443/a%20b?x=1");
    REQUIRE(route.target);
    CHECK(route.target->tls);
    CHECK(route.target->host == "hooks.example");
    CHECK(route.target->port == 8443);
    CHECK(route.target->host_header == "Hooks.Example.:8443");
    CHECK(route.target->path == "/a%20b?x=1");
    CHECK(route.target->key == "https://hooks.example:8443");

    const auto plain = route_of("http://[::1]?q");
    REQUIRE(plain.target);
    CHECK(plain.target->host == "::1");
    CHECK(plain.target->port == 80);
    CHECK(plain.target->path == "/?q");
}

TEST_CASE("a port is read from its digits, from 1 to 65535", "[url]") {
    CHECK(route_of("http://hooks.example:00080/").target->port == 80);
    CHECK(route_of("http://hooks.example:65535/").target->port == 65535);
    // Boost.URL's port_number() wraps: 65561 would go to port 25 (found by fuzz_url).
    const std::string refused =
        GENERATE("http://hooks.example:0/", "http://hooks.example:/", "http://hooks.example:65536/",
                 "http://hooks.example:65561/", "http://hooks.example:99999999999999999999/");
    INFO(refused);
    const auto route = route_of(refused);
    CHECK_FALSE(route.target);
    CHECK(route.failure == herald::delivery_errc::bad_url);
}

TEST_CASE("a host that starts as an IPv4 address is not sent to that address", "[url][ssrf]") {
    // Boost.URL reads these as host 10.0.0.1 with the rest as the path (found by fuzz_url).
    const std::string text =
        GENERATE("http://10.0.0.1.nip.io/", "http://10.0.0.1.nip.io", "http://1.2.3.4.5/",
                 "http://127.0.0.1x/", "http://127.0.0.1-a.example/", "http://10.0.0.1:80.x/",
                 "http://127.0.0.1%00.example.com/");
    INFO(text);
    const auto route = route_of(text);
    CHECK_FALSE(route.target);
    CHECK(route.failure == herald::delivery_errc::bad_url);
}

TEST_CASE("the policy refuses a host however the URL spells it", "[url][ssrf]") {
    const AddressPolicy strict{herald::SsrfPolicy{}};
    const std::string text =
        GENERATE("http://127.1/", "http://%31%32%37.0.0.1/", "http://0x7f000001./", "http://[::1]/",
                 "http://[::ffff:127.0.0.1]/", "http://%3A%3A1/",
                 "http://%6c%6f%63%61%6c%68%6f%73%74/", "http://[v1.fe80::a]/");
    INFO(text);
    const auto route = route_of(text, strict);
    CHECK_FALSE(route.target);
    CHECK(route.failure == herald::delivery_errc::ssrf_refused);
    CHECK(route.diagnostic.starts_with("ssrf: host "));
}

TEST_CASE("only absolute http and https URLs with a host and no user info are routed", "[url]") {
    const std::string text = GENERATE("ftp://hooks.example/", "file:///etc/passwd",
                                      "http:///no-host", "http://user@hooks.example/",
                                      "http://evil.example@127.0.0.1/", "http:hooks.example");
    INFO(text);
    const auto url = boost::urls::parse_absolute_uri(text);
    REQUIRE(url);
    CHECK_FALSE(parse_target(*url));
}

}  // namespace
