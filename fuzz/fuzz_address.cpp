// Fuzzes the SSRF rules against a second implementation: glibc's own address parsers
// (inet_aton, the lenient IPv4 reader of every resolver, and inet_pton for IPv6) and a table of
// non-global ranges written here apart from herald's, from IANA's special-purpose registries.
// The input as a URL host: with the default policy every text glibc reads as an address is
// refused (an IP literal is never contacted unless allow-listed), and allow-listing everything,
// herald reads it as the same address glibc does. The input's first 16 bytes as an address:
// herald finds it non-global exactly when the table here does.
#include "delivery/address_policy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace {

namespace ip = boost::asio::ip;

struct Range {
    const char* cidr;
    /// The range carries an IPv4 address at this byte, judged by it (-1: refused outright).
    int embeds_v4_at = -1;
};

// Non-global IPv4 (RFC 6890 and its updates): what a webhook must never reach.
constexpr Range v4_table[] = {
    {"0.0.0.0/8"},      {"10.0.0.0/8"},     {"100.64.0.0/10"}, {"127.0.0.0/8"},
    {"169.254.0.0/16"}, {"172.16.0.0/12"},  {"192.0.0.0/24"},  {"192.0.2.0/24"},
    {"192.88.99.0/24"}, {"192.168.0.0/16"}, {"198.18.0.0/15"}, {"198.51.100.0/24"},
    {"203.0.113.0/24"}, {"224.0.0.0/4"},    {"240.0.0.0/4"},
};
// Non-global IPv6, and the ranges that wrap an IPv4 address.
constexpr Range v6_table[] = {
    {"::/128"},         {"::1/128"},  {"::ffff:0:0/96", 12}, {"::/96", 12}, {"64:ff9b::/96", 12},
    {"64:ff9b:1::/48"}, {"100::/64"}, {"2001:db8::/32"},     {"2001::/23"}, {"2002::/16", 2},
    {"3fff::/20"},      {"fc00::/7"}, {"fe80::/10"},         {"fec0::/10"}, {"ff00::/8"},
};

template <std::size_t N>
bool in_prefix(const std::array<unsigned char, N>& address, const char* cidr) {
    const std::string text(cidr);
    const auto slash = text.find('/');
    std::array<unsigned char, N> network{};
    if (inet_pton(N == 4 ? AF_INET : AF_INET6, text.substr(0, slash).c_str(), network.data()) != 1)
        __builtin_trap();  // a typo in the table
    const int length = std::stoi(text.substr(slash + 1));
    for (int bit = 0; bit < length; ++bit) {
        const int byte = bit / 8, shift = 7 - bit % 8;
        if (((address[byte] >> shift) & 1) != ((network[byte] >> shift) & 1))
            return false;
    }
    return true;
}

bool v4_non_global(const std::array<unsigned char, 4>& a) {
    for (const Range& r : v4_table)
        if (in_prefix(a, r.cidr))
            return true;
    return false;
}

bool v6_non_global(const std::array<unsigned char, 16>& a) {
    for (const Range& r : v6_table) {
        if (!in_prefix(a, r.cidr))
            continue;
        if (r.embeds_v4_at < 0)
            return true;
        std::array<unsigned char, 4> v4{};
        std::memcpy(v4.data(), a.data() + r.embeds_v4_at, 4);
        return v4_non_global(v4);
    }
    return (a[0] & 0xe0) != 0x20;  // outside global unicast, 2000::/3
}

void check_classifier(const std::uint8_t* data) {
    std::array<unsigned char, 4> v4{};
    std::memcpy(v4.data(), data, 4);
    if (herald::detail::non_global_reason(ip::address_v4{v4}).has_value() != v4_non_global(v4))
        __builtin_trap();
    std::array<unsigned char, 16> v6{};
    std::memcpy(v6.data(), data, 16);
    if (herald::detail::non_global_reason(ip::address_v6{v6}).has_value() != v6_non_global(v6))
        __builtin_trap();
}

/// The address glibc reads in `host`, if any.
std::optional<ip::address> c_library_address(const std::string& host) {
    in_addr v4{};
    // inet_aton also takes an address followed by whitespace and anything; a URL host has none.
    if (host.find_first_of(" \t\n\v\f\r") == std::string::npos && inet_aton(host.c_str(), &v4))
        return ip::address_v4{ntohl(v4.s_addr)};
    std::array<unsigned char, 16> v6{};
    if (inet_pton(AF_INET6, host.c_str(), v6.data()) == 1)
        return ip::address_v6{v6};
    return std::nullopt;
}

void check_host(std::string_view text) {
    const std::string host(text);
    if (host.find('\0') != std::string::npos)
        return;
    static const herald::detail::AddressPolicy strict{herald::SsrfPolicy{}};
    static const herald::detail::AddressPolicy open{
        herald::SsrfPolicy{.allowed_subnets = {"0.0.0.0/0", "::/0"}}};
    const auto decision = strict.check_host(host);
    const auto permitted = open.check_host(host);
    if (!decision.refusal.empty() &&
        decision.refusal.find(herald::detail::normalize_host(host)) == std::string::npos)
        __builtin_trap();  // a refusal that does not name the host
    const auto theirs = c_library_address(host);
    if (!theirs)
        return;
    if (decision.refusal.empty())
        __builtin_trap();  // an address glibc would connect to, let through as a name
    if (!permitted.literal || *permitted.literal != *theirs)
        __builtin_trap();  // herald reads another address than glibc does
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size >= 16)
        check_classifier(data);
    check_host(std::string_view(reinterpret_cast<const char*>(data), size));
    return 0;
}
