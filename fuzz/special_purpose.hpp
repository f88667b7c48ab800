// fuzz/special_purpose.hpp — a second implementation of what herald's SSRF rules know, written
// apart from src/delivery/address_policy.cpp for the fuzz targets to compare against: the
// non-global ranges of IANA's special-purpose registries, and the addresses glibc's own parsers
// (inet_aton, the lenient IPv4 reader of every resolver, and inet_pton for IPv6) read in a text.
#pragma once

#include <boost/asio/ip/address.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <array>
#include <cstddef>
#include <cstring>
#include <optional>
#include <string>

namespace herald_fuzz {

/// A CIDR range of the table.
struct Range {
    const char* cidr;
    /// The range carries an IPv4 address at this byte, judged by it (-1: refused outright).
    int embeds_v4_at = -1;
};

// Non-global IPv4 (RFC 6890 and its updates): what a webhook must never reach.
inline constexpr Range v4_table[] = {
    {"0.0.0.0/8"},      {"10.0.0.0/8"},     {"100.64.0.0/10"}, {"127.0.0.0/8"},
    {"169.254.0.0/16"}, {"172.16.0.0/12"},  {"192.0.0.0/24"},  {"192.0.2.0/24"},
    {"192.88.99.0/24"}, {"192.168.0.0/16"}, {"198.18.0.0/15"}, {"198.51.100.0/24"},
    {"203.0.113.0/24"}, {"224.0.0.0/4"},    {"240.0.0.0/4"},
};
// Non-global IPv6, and the ranges that wrap an IPv4 address.
inline constexpr Range v6_table[] = {
    {"::/128"},         {"::1/128"},  {"::ffff:0:0/96", 12}, {"::/96", 12}, {"64:ff9b::/96", 12},
    {"64:ff9b:1::/48"}, {"100::/64"}, {"2001:db8::/32"},     {"2001::/23"}, {"2002::/16", 2},
    {"3fff::/20"},      {"fc00::/7"}, {"fe80::/10"},         {"fec0::/10"}, {"ff00::/8"},
};

/// Whether `address` (4 or 16 bytes, network order) is in `cidr`, read by inet_pton.
template <std::size_t N>
bool in_prefix(const std::array<unsigned char, N>& address, const char* cidr) {
    const std::string text(cidr);
    const auto slash = text.find('/');
    std::array<unsigned char, N> network{};
    if (inet_pton(N == 4 ? AF_INET : AF_INET6, text.substr(0, slash).c_str(), network.data()) != 1)
        __builtin_trap();  // a typo in a table
    const int length = std::stoi(text.substr(slash + 1));
    for (int bit = 0; bit < length; ++bit) {
        const int byte = bit / 8, shift = 7 - bit % 8;
        if (((address[byte] >> shift) & 1) != ((network[byte] >> shift) & 1))
            return false;
    }
    return true;
}

inline bool v4_non_global(const std::array<unsigned char, 4>& a) {
    for (const Range& r : v4_table)
        if (in_prefix(a, r.cidr))
            return true;
    return false;
}

inline bool v6_non_global(const std::array<unsigned char, 16>& a) {
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

/// The address glibc reads in `host`, if any: inet_aton's IPv4 forms, then inet_pton's IPv6.
inline std::optional<boost::asio::ip::address> c_library_address(const std::string& host) {
    in_addr v4{};
    // inet_aton also takes an address followed by whitespace and anything; a URL host has none.
    if (host.find_first_of(" \t\n\v\f\r") == std::string::npos && inet_aton(host.c_str(), &v4))
        return boost::asio::ip::address_v4{ntohl(v4.s_addr)};
    std::array<unsigned char, 16> v6{};
    if (inet_pton(AF_INET6, host.c_str(), v6.data()) == 1)
        return boost::asio::ip::address_v6{v6};
    return std::nullopt;
}

}  // namespace herald_fuzz
