#include "delivery/address_policy.hpp"

#include <herald/error.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>

namespace herald::detail {
namespace ip = boost::asio::ip;
namespace {

struct V4Range {
    std::uint32_t network;
    unsigned prefix_length;
    std::string_view cidr;
    std::string_view what;
};

// IANA's special-purpose IPv4 registry, condensed to what must never be a webhook target.
// The broadcast address comes before 240.0.0.0/4 so it gets its own name.
constexpr std::array v4_ranges{
    V4Range{0x00000000, 8, "0.0.0.0/8", "the \"this network\" range"},
    V4Range{0x0A000000, 8, "10.0.0.0/8", "a private range"},
    V4Range{0x64400000, 10, "100.64.0.0/10", "the shared address space (CGNAT)"},
    V4Range{0x7F000000, 8, "127.0.0.0/8", "the loopback range"},
    V4Range{0xA9FE0000, 16, "169.254.0.0/16", "the link-local range (cloud metadata)"},
    V4Range{0xAC100000, 12, "172.16.0.0/12", "a private range"},
    V4Range{0xC0000000, 24, "192.0.0.0/24", "the IETF protocol assignments range"},
    V4Range{0xC0000200, 24, "192.0.2.0/24", "a documentation range"},
    V4Range{0xC0586300, 24, "192.88.99.0/24", "the 6to4 relay anycast range"},
    V4Range{0xC0A80000, 16, "192.168.0.0/16", "a private range"},
    V4Range{0xC6120000, 15, "198.18.0.0/15", "the benchmarking range"},
    V4Range{0xC6336400, 24, "198.51.100.0/24", "a documentation range"},
    V4Range{0xCB007100, 24, "203.0.113.0/24", "a documentation range"},
    V4Range{0xE0000000, 4, "224.0.0.0/4", "the multicast range"},
    V4Range{0xFFFFFFFF, 32, "255.255.255.255/32", "the limited broadcast address"},
    V4Range{0xF0000000, 4, "240.0.0.0/4", "the reserved range"},
};

using V6Bytes = ip::address_v6::bytes_type;

// An IPv6 range; `embeds_v4_at` >= 0 means the range carries an IPv4 address at that byte
// offset and is judged by that address rather than refused outright.
struct V6Range {
    V6Bytes network;
    unsigned prefix_length;
    std::string_view cidr;
    std::string_view what;
    int embeds_v4_at = -1;
};

constexpr V6Bytes v6(std::initializer_list<unsigned char> leading) {
    V6Bytes bytes{};
    std::size_t i = 0;
    for (unsigned char b : leading)
        bytes[i++] = b;
    return bytes;
}

constexpr V6Bytes v6_loopback() {
    V6Bytes bytes{};
    bytes[15] = 1;
    return bytes;
}

const std::array v6_ranges{
    V6Range{V6Bytes{}, 128, "::/128", "the unspecified address"},
    V6Range{v6_loopback(), 128, "::1/128", "the loopback address"},
    V6Range{v6({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}), 96, "::ffff:0:0/96", "IPv4-mapped", 12},
    V6Range{V6Bytes{}, 96, "::/96", "IPv4-compatible", 12},
    V6Range{v6({0, 0x64, 0xff, 0x9b}), 96, "64:ff9b::/96", "NAT64", 12},
    V6Range{v6({0, 0x64, 0xff, 0x9b, 0, 1}), 48, "64:ff9b:1::/48", "the local-use NAT64 range"},
    V6Range{v6({0x01, 0x00}), 64, "100::/64", "the discard-only range"},
    V6Range{v6({0x20, 0x01, 0x0d, 0xb8}), 32, "2001:db8::/32", "a documentation range"},
    V6Range{v6({0x20, 0x01}), 23, "2001::/23", "the IETF protocol assignments range (Teredo)"},
    V6Range{v6({0x20, 0x02}), 16, "2002::/16", "6to4", 2},
    V6Range{v6({0x3f, 0xff}), 20, "3fff::/20", "a documentation range"},
    V6Range{v6({0xfc}), 7, "fc00::/7", "the unique-local range"},
    V6Range{v6({0xfe, 0x80}), 10, "fe80::/10", "the link-local range"},
    V6Range{v6({0xfe, 0xc0}), 10, "fec0::/10", "the site-local range"},
    V6Range{v6({0xff}), 8, "ff00::/8", "the multicast range"},
};

bool prefix_matches(const V6Bytes& address, const V6Bytes& network, unsigned prefix_length) {
    for (unsigned bit = 0; bit < prefix_length; bit += 8) {
        const unsigned bits = std::min(8u, prefix_length - bit);
        const auto mask = static_cast<unsigned char>(0xff << (8 - bits));
        if ((address[bit / 8] & mask) != (network[bit / 8] & mask))
            return false;
    }
    return true;
}

bool prefix_matches(std::uint32_t address, std::uint32_t network, unsigned prefix_length) {
    if (prefix_length == 0)
        return true;
    const std::uint32_t mask = ~std::uint32_t{0} << (32 - prefix_length);
    return (address & mask) == (network & mask);
}

std::string in_range(std::string_view what, std::string_view cidr) {
    return "is in " + std::string(what) + " (" + std::string(cidr) + ")";
}

std::optional<std::string> v4_reason(const ip::address_v4& address) {
    const std::uint32_t value = address.to_uint();
    for (const auto& range : v4_ranges)
        if (prefix_matches(value, range.network, range.prefix_length))
            return in_range(range.what, range.cidr);
    return std::nullopt;
}

ip::address_v4 embedded_v4(const V6Bytes& bytes, int offset) {
    ip::address_v4::bytes_type v4{};
    std::copy_n(bytes.begin() + offset, 4, v4.begin());
    return ip::address_v4{v4};
}

std::optional<std::string> v6_reason(const ip::address_v6& address) {
    const V6Bytes bytes = address.to_bytes();
    for (const auto& range : v6_ranges) {
        if (!prefix_matches(bytes, range.network, range.prefix_length))
            continue;
        if (range.embeds_v4_at < 0)
            return in_range(range.what, range.cidr);
        const auto v4 = embedded_v4(bytes, range.embeds_v4_at);
        auto reason = v4_reason(v4);
        if (!reason)
            return std::nullopt;
        return "maps to " + v4.to_string() + " (" + std::string(range.what) + ", " +
               std::string(range.cidr) + "), which " + *reason;
    }
    if ((bytes[0] & 0xe0) != 0x20)
        return std::string("is outside global unicast (2000::/3)");
    return std::nullopt;
}

// The IPv4 address an IPv4-mapped IPv6 address stands for, so allow-lists written for IPv4
// also cover answers in mapped form.
ip::address unmapped(const ip::address& address) {
    if (address.is_v6() && address.to_v6().is_v4_mapped())
        return ip::make_address_v4(ip::v4_mapped, address.to_v6());
    return address;
}

std::optional<std::uint64_t> parse_ipv4_part(std::string_view part) {
    int base = 10;
    if (part.size() >= 2 && part[0] == '0' && (part[1] == 'x' || part[1] == 'X')) {
        base = 16;
        part.remove_prefix(2);
        if (part.empty())
            return 0;
    } else if (part.size() >= 2 && part[0] == '0') {
        base = 8;
        part.remove_prefix(1);
    }
    // Any number of leading zeros, as inet_aton reads them; a value too large for 64 bits is
    // out of range for from_chars and refused.
    if (part.empty())
        return std::nullopt;
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), value, base);
    if (ec != std::errc{} || end != part.data() + part.size())
        return std::nullopt;
    return value;
}

bool is_label_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// A label that only a numeric-address parser could mean ("1", "0x1f"): a name ending in one is
// either an IP literal in disguise or not a real name, and is refused either way.
bool is_numeric_label(std::string_view label) {
    if (label.starts_with("0x"))
        label.remove_prefix(2);
    return std::all_of(label.begin(), label.end(),
                       [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }) &&
           std::any_of(label.begin(), label.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<std::string_view> invalid_name_reason(std::string_view host) {
    if (host.empty() || host.size() > 253)
        return "is not a valid host name";
    std::size_t start = 0;
    std::string_view last;
    while (start <= host.size()) {
        const std::size_t dot = std::min(host.find('.', start), host.size());
        last = host.substr(start, dot - start);
        if (last.empty() || last.size() > 63 ||
            !std::all_of(last.begin(), last.end(), is_label_char))
            return "is not a valid host name";
        start = dot + 1;
    }
    if (is_numeric_label(last))
        return "looks like a numeric IP address";
    return std::nullopt;
}

bool is_localhost(std::string_view host) {
    return host == "localhost" || host.ends_with(".localhost");
}

std::optional<ip::address> parse_ip_literal(std::string_view host) {
    boost::system::error_code ec;
    auto address = ip::make_address(host, ec);
    if (!ec)
        return address;
    if (auto v4 = parse_lenient_ipv4(host))
        return ip::address{*v4};
    return std::nullopt;
}

HostDecision refuse(std::string_view host, std::string_view why) {
    return {.refusal = "ssrf: host " + std::string(host) + " " + std::string(why)};
}

}  // namespace

bool Subnet::contains(const ip::address& address) const {
    const ip::address candidate = unmapped(address);
    if (candidate.is_v4() && network.is_v4())
        return prefix_matches(candidate.to_v4().to_uint(), network.to_v4().to_uint(),
                              prefix_length);
    if (candidate.is_v6() && network.is_v6())
        return prefix_matches(candidate.to_v6().to_bytes(), network.to_v6().to_bytes(),
                              prefix_length);
    return false;
}

std::optional<Subnet> parse_subnet(std::string_view text) {
    const auto slash = text.find('/');
    boost::system::error_code ec;
    const auto network = ip::make_address(text.substr(0, slash), ec);
    if (ec)
        return std::nullopt;
    const unsigned max_length = network.is_v4() ? 32 : 128;
    if (slash == std::string_view::npos)
        return Subnet{unmapped(network), max_length};
    const auto digits = text.substr(slash + 1);
    unsigned length = 0;
    const auto [end, parse_ec] =
        std::from_chars(digits.data(), digits.data() + digits.size(), length);
    if (digits.empty() || parse_ec != std::errc{} || end != digits.data() + digits.size() ||
        length > max_length)
        return std::nullopt;
    return Subnet{network, length};
}

std::optional<ip::address_v4> parse_lenient_ipv4(std::string_view host) {
    std::array<std::uint64_t, 4> parts{};
    std::size_t count = 0;
    std::size_t start = 0;
    while (start <= host.size()) {
        if (count == parts.size())
            return std::nullopt;
        const std::size_t dot = std::min(host.find('.', start), host.size());
        auto part = parse_ipv4_part(host.substr(start, dot - start));
        if (!part)
            return std::nullopt;
        parts[count++] = *part;
        start = dot + 1;
    }
    std::uint64_t value = 0;
    for (std::size_t i = 0; i + 1 < count; ++i) {
        if (parts[i] > 255)
            return std::nullopt;
        value |= parts[i] << (8 * (3 - i));
    }
    const std::uint64_t last_limit = std::uint64_t{1} << (8 * (5 - count));
    if (parts[count - 1] >= last_limit)
        return std::nullopt;
    value |= parts[count - 1];
    return ip::address_v4{static_cast<std::uint32_t>(value)};
}

std::optional<std::string> non_global_reason(const ip::address& address) {
    return address.is_v4() ? v4_reason(address.to_v4()) : v6_reason(address.to_v6());
}

std::string normalize_host(std::string_view host) {
    if (host.ends_with('.'))
        host.remove_suffix(1);
    std::string normalized(host);
    std::transform(normalized.begin(), normalized.end(), normalized.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return normalized;
}

AddressPolicy::AddressPolicy(const SsrfPolicy& policy) : enabled_(policy.enabled) {
    for (const auto& host : policy.allowed_hosts)
        allowed_hosts_.push_back(normalize_host(host));
    for (std::size_t i = 0; i < policy.allowed_subnets.size(); ++i) {
        auto subnet = parse_subnet(policy.allowed_subnets[i]);
        if (!subnet)
            throw Error(errc::invalid_argument, "ssrf.allowed_subnets[" + std::to_string(i) + "]",
                        "not a CIDR subnet such as 10.0.0.0/8 or fd00::/8");
        allowed_subnets_.push_back(*subnet);
    }
}

HostDecision AddressPolicy::check_host(std::string_view raw_host) const {
    const std::string host = normalize_host(raw_host);
    const auto literal = parse_ip_literal(host);
    const bool host_allowed =
        std::find(allowed_hosts_.begin(), allowed_hosts_.end(), host) != allowed_hosts_.end();
    if (!enabled_ || host_allowed)
        return {.literal = literal, .trusted = !literal};
    if (literal) {
        if (allow_listed(*literal))
            return {.literal = literal};
        return refuse(host, "is an IP literal (" + literal->to_string() +
                                "); only allow-listed addresses may be used directly");
    }
    if (is_localhost(host))
        return refuse(host, "is a loopback name (localhost)");
    if (auto why = invalid_name_reason(host))
        return refuse(host, *why);
    return {};
}

std::optional<std::string> AddressPolicy::check_address(const ip::address& address) const {
    if (!enabled_ || allow_listed(address))
        return std::nullopt;
    auto reason = non_global_reason(address);
    if (!reason)
        return std::nullopt;
    return address.to_string() + " " + *reason;
}

bool AddressPolicy::allow_listed(const ip::address& address) const {
    return std::any_of(allowed_subnets_.begin(), allowed_subnets_.end(),
                       [&](const Subnet& subnet) { return subnet.contains(address); });
}

}  // namespace herald::detail
