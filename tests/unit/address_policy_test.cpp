// SSRF rules as pure functions (src/delivery/address_policy.hpp); the same table through the
// HTTP client, with a live receiver, is in tests/live/http_client_test.cpp.
#include "delivery/address_policy.hpp"

#include <herald/error.hpp>

#include <catch2/catch.hpp>

namespace {

using namespace herald::detail;
namespace ip = boost::asio::ip;

TEST_CASE("lenient IPv4 parsing reads every spelling inet_aton accepts", "[ssrf]") {
    const auto [text, expected] = GENERATE(table<std::string, std::string>({
        {"127.0.0.1", "127.0.0.1"},
        {"2130706433", "127.0.0.1"},
        {"0x7f000001", "127.0.0.1"},
        {"0X7F000001", "127.0.0.1"},
        {"0177.0.0.1", "127.0.0.1"},
        {"0177.0.0.01", "127.0.0.1"},
        {"127.1", "127.0.0.1"},
        {"127.0.1", "127.0.0.1"},
        {"0x7f.1", "127.0.0.1"},
        {"10.0x10.0377.1", "10.16.255.1"},
        {"0", "0.0.0.0"},
        {"0x", "0.0.0.0"},
        {"4294967295", "255.255.255.255"},
        // Leading zeros, however many (found by fuzz_address against inet_aton).
        {"0000000000000000001", "0.0.0.1"},
        {"0x00000000000000000000007f.1", "127.0.0.1"},
    }));
    const auto parsed = parse_lenient_ipv4(text);
    REQUIRE(parsed);
    CHECK(parsed->to_string() == expected);
}

TEST_CASE("lenient IPv4 parsing rejects what is not an address", "[ssrf]") {
    const std::string text =
        GENERATE("4294967296", "99999999999999999999999", "256.1.1.1", "1.2.3.4.5", "1..2",
                 "08.1.1.1", "0x1g", "example.com", "", "1.2.3.", "127.0.0.1 ");
    CHECK_FALSE(parse_lenient_ipv4(text));
}

TEST_CASE("non-global addresses are named with their range", "[ssrf]") {
    const auto [address, reason] = GENERATE(table<std::string, std::string>({
        {"0.0.0.0", "is in the \"this network\" range (0.0.0.0/8)"},
        {"10.0.0.1", "is in a private range (10.0.0.0/8)"},
        {"100.64.0.1", "is in the shared address space (CGNAT) (100.64.0.0/10)"},
        {"100.127.255.254", "is in the shared address space (CGNAT) (100.64.0.0/10)"},
        {"127.0.0.1", "is in the loopback range (127.0.0.0/8)"},
        {"169.254.169.254", "is in the link-local range (cloud metadata) (169.254.0.0/16)"},
        {"172.16.0.1", "is in a private range (172.16.0.0/12)"},
        {"172.31.255.255", "is in a private range (172.16.0.0/12)"},
        {"192.0.0.8", "is in the IETF protocol assignments range (192.0.0.0/24)"},
        {"192.0.2.10", "is in a documentation range (192.0.2.0/24)"},
        {"192.168.1.1", "is in a private range (192.168.0.0/16)"},
        {"198.18.0.1", "is in the benchmarking range (198.18.0.0/15)"},
        {"198.51.100.7", "is in a documentation range (198.51.100.0/24)"},
        {"203.0.113.7", "is in a documentation range (203.0.113.0/24)"},
        {"224.0.0.1", "is in the multicast range (224.0.0.0/4)"},
        {"239.255.255.250", "is in the multicast range (224.0.0.0/4)"},
        {"240.0.0.1", "is in the reserved range (240.0.0.0/4)"},
        {"255.255.255.255", "is in the limited broadcast address (255.255.255.255/32)"},
        {"::", "is in the unspecified address (::/128)"},
        {"::1", "is in the loopback address (::1/128)"},
        {"::ffff:127.0.0.1",
         "maps to 127.0.0.1 (IPv4-mapped, ::ffff:0:0/96), which is in the loopback range "
         "(127.0.0.0/8)"},
        {"::ffff:169.254.169.254",
         "maps to 169.254.169.254 (IPv4-mapped, ::ffff:0:0/96), which is in the link-local range "
         "(cloud metadata) (169.254.0.0/16)"},
        {"::10.0.0.1",
         "maps to 10.0.0.1 (IPv4-compatible, ::/96), which is in a private range (10.0.0.0/8)"},
        {"64:ff9b::a00:1",
         "maps to 10.0.0.1 (NAT64, 64:ff9b::/96), which is in a private range (10.0.0.0/8)"},
        {"2002:7f00:1::",
         "maps to 127.0.0.1 (6to4, 2002::/16), which is in the loopback range (127.0.0.0/8)"},
        {"2001:db8::1", "is in a documentation range (2001:db8::/32)"},
        {"2001::1", "is in the IETF protocol assignments range (Teredo) (2001::/23)"},
        {"fc00::1", "is in the unique-local range (fc00::/7)"},
        {"fd12:3456::1", "is in the unique-local range (fc00::/7)"},
        {"fe80::1", "is in the link-local range (fe80::/10)"},
        {"fec0::1", "is in the site-local range (fec0::/10)"},
        {"ff02::1", "is in the multicast range (ff00::/8)"},
        {"100::1", "is in the discard-only range (100::/64)"},
        {"4000::1", "is outside global unicast (2000::/3)"},
    }));
    const auto why = non_global_reason(ip::make_address(address));
    REQUIRE(why);
    CHECK(*why == reason);
}

TEST_CASE("global unicast addresses pass", "[ssrf]") {
    const std::string address =
        GENERATE("93.184.216.34", "8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1",
                 "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808", "2a00:1450:4001::1");
    CHECK_FALSE(non_global_reason(ip::make_address(address)));
}

TEST_CASE("IP-literal and loopback hosts are refused with the rule named", "[ssrf]") {
    const AddressPolicy policy{herald::SsrfPolicy{}};
    const auto [host, refusal] = GENERATE(table<std::string, std::string>({
        {"2130706433", "ssrf: host 2130706433 is an IP literal (127.0.0.1)"},
        {"0x7f000001", "ssrf: host 0x7f000001 is an IP literal (127.0.0.1)"},
        {"0177.0.0.1", "ssrf: host 0177.0.0.1 is an IP literal (127.0.0.1)"},
        {"127.1", "ssrf: host 127.1 is an IP literal (127.0.0.1)"},
        {"127.0.0.1", "ssrf: host 127.0.0.1 is an IP literal (127.0.0.1)"},
        {"169.254.169.254", "ssrf: host 169.254.169.254 is an IP literal (169.254.169.254)"},
        {"93.184.216.34", "ssrf: host 93.184.216.34 is an IP literal (93.184.216.34)"},
        {"::1", "ssrf: host ::1 is an IP literal (::1)"},
        {"::ffff:127.0.0.1", "ssrf: host ::ffff:127.0.0.1 is an IP literal (::ffff:127.0.0.1)"},
        {"::127.0.0.1", "ssrf: host ::127.0.0.1 is an IP literal (::127.0.0.1)"},
        {"localhost", "ssrf: host localhost is a loopback name (localhost)"},
        {"localhost.", "ssrf: host localhost is a loopback name (localhost)"},
        {"LocalHost", "ssrf: host localhost is a loopback name (localhost)"},
        {"api.localhost", "ssrf: host api.localhost is a loopback name (localhost)"},
        {"1.2.3.4.5", "ssrf: host 1.2.3.4.5 looks like a numeric IP address"},
        {"example.0x10", "ssrf: host example.0x10 looks like a numeric IP address"},
        {"exa mple.com", "ssrf: host exa mple.com is not a valid host name"},
        {"a..b", "ssrf: host a..b is not a valid host name"},
    }));
    const auto decision = policy.check_host(host);
    CHECK(decision.refusal.starts_with(refusal));
    CHECK_FALSE(decision.literal);
}

TEST_CASE("ordinary host names go on to resolution and address checks", "[ssrf]") {
    const AddressPolicy policy{herald::SsrfPolicy{}};
    const std::string host = GENERATE("hooks.example.com", "Hooks.Example.COM.", "a-b_c.example",
                                      "deadbeef.example.com", "xn--bcher-kva.example");
    const auto decision = policy.check_host(host);
    CHECK(decision.refusal.empty());
    CHECK_FALSE(decision.literal);
    CHECK_FALSE(decision.trusted);
    CHECK(policy.check_address(ip::make_address("10.0.0.1")) ==
          "10.0.0.1 is in a private range (10.0.0.0/8)");
    CHECK_FALSE(policy.check_address(ip::make_address("93.184.216.34")));
}

TEST_CASE("allow-listed subnets and hosts open exactly what they name", "[ssrf]") {
    const AddressPolicy policy{herald::SsrfPolicy{.allowed_hosts = {"Internal.Example."},
                                                  .allowed_subnets = {"127.0.0.0/8", "fd00::/8"}}};
    SECTION("an IP literal inside an allowed subnet is used directly") {
        const auto decision = policy.check_host("127.0.0.1");
        CHECK(decision.refusal.empty());
        REQUIRE(decision.literal);
        CHECK(decision.literal->to_string() == "127.0.0.1");
        CHECK(policy.check_host("[fd00::1]").refusal.size() > 0);  // brackets are the URL's
        CHECK(policy.check_host("fd00::1").literal);
    }
    SECTION("addresses in allowed subnets pass, including IPv4-mapped forms") {
        CHECK_FALSE(policy.check_address(ip::make_address("127.0.0.1")));
        CHECK_FALSE(policy.check_address(ip::make_address("::ffff:127.0.0.2")));
        CHECK(policy.check_address(ip::make_address("10.0.0.1")));
        CHECK(policy.check_address(ip::make_address("::1")));
    }
    SECTION("an allowed host name is trusted as it is") {
        const auto decision = policy.check_host("internal.example");
        CHECK(decision.refusal.empty());
        CHECK(decision.trusted);
    }
    SECTION("other literals stay refused") {
        CHECK_FALSE(policy.check_host("10.0.0.1").refusal.empty());
    }
}

TEST_CASE("a malformed allow-list entry is a configuration error naming it", "[ssrf]") {
    const std::string entry =
        GENERATE("10.0.0.0/33", "10.0.0/8", "not-a-subnet", "::1/129", "10.0.0.0/");
    try {
        AddressPolicy{herald::SsrfPolicy{.allowed_subnets = {"127.0.0.0/8", entry}}};
        FAIL("accepted " << entry);
    } catch (const herald::Error& e) {
        CHECK(e.code() == herald::errc::invalid_argument);
        CHECK(e.field() == "ssrf.allowed_subnets[1]");
    }
}

TEST_CASE("subnets contain what their prefix covers", "[ssrf]") {
    const auto subnet = parse_subnet("100.64.0.0/10");
    REQUIRE(subnet);
    CHECK(subnet->contains(ip::make_address("100.127.0.1")));
    CHECK_FALSE(subnet->contains(ip::make_address("100.128.0.1")));
    CHECK_FALSE(subnet->contains(ip::make_address("::1")));
    const auto single = parse_subnet("::1");
    REQUIRE(single);
    CHECK(single->prefix_length == 128);
    CHECK(single->contains(ip::make_address("::1")));
}

TEST_CASE("disabling the policy lets every host and address through", "[ssrf]") {
    const AddressPolicy policy{herald::SsrfPolicy{.enabled = false}};
    CHECK(policy.check_host("localhost").refusal.empty());
    const auto literal = policy.check_host("127.1");
    REQUIRE(literal.literal);
    CHECK(literal.literal->to_string() == "127.0.0.1");
    CHECK_FALSE(policy.check_address(ip::make_address("10.0.0.1")));
}

}  // namespace
