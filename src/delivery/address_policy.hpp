// delivery/address_policy.hpp — the SSRF rules as pure functions over host names and
// addresses (no sockets, no DNS), so every rule is unit-tested on its own.
//
// clang-format off
//     AddressPolicy policy{config.ssrf};
//     auto host = policy.check_host("0x7f000001");  // host.refusal: "ssrf: host 0x7f000001 is ..."
//     auto why = policy.check_address(ip::make_address("10.0.0.1"));
//     // *why == "10.0.0.1 is in a private range (10.0.0.0/8)"
// clang-format on
#pragma once

#include <herald/delivery_config.hpp>

#include <boost/asio/ip/address.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace herald::detail {

/// An IPv4 or IPv6 CIDR subnet.
struct Subnet {
    boost::asio::ip::address network;
    unsigned prefix_length = 0;

    bool contains(const boost::asio::ip::address& address) const;
};

/// "10.0.0.0/8", "::1/128", or a bare address (a /32 or /128); nullopt when malformed.
std::optional<Subnet> parse_subnet(std::string_view text);

/// Reads `host` as IPv4 the lenient way of inet_aton and browsers: one to four parts in
/// decimal, octal (leading 0) or hex (0x), the last part filling the remaining bytes —
/// "2130706433", "0x7f000001", "0177.0.0.1" and "127.1" are all 127.0.0.1.
std::optional<boost::asio::ip::address_v4> parse_lenient_ipv4(std::string_view host);

/// Why `address` is not globally routable, e.g. "is in a private range (10.0.0.0/8)" or
/// "maps to 127.0.0.1 (::ffff:0:0/96), which is in the loopback range (127.0.0.0/8)";
/// nullopt when it is a global unicast address.
std::optional<std::string> non_global_reason(const boost::asio::ip::address& address);

/// What a URL's host may be used for.
struct HostDecision {
    /// Non-empty: the host is refused; the text names the rule ("ssrf: ...").
    std::string refusal;
    /// The host is an IP literal that may be contacted directly (allow-listed, or SSRF off).
    std::optional<boost::asio::ip::address> literal;
    /// The host is an allow-listed name: the addresses it resolves to are not checked.
    bool trusted = false;
};

/// The SSRF policy compiled for fast checks. Immutable after construction; thread-safe.
class AddressPolicy {
  public:
    /// Throws herald::Error(invalid_argument, "ssrf.allowed_subnets[i]") for a malformed subnet.
    explicit AddressPolicy(const SsrfPolicy& policy);

    /// Checks a URL's host (decoded; IPv6 literals without brackets).
    HostDecision check_host(std::string_view host) const;

    /// For a resolved address of a name that is not trusted: why it may not be contacted
    /// ("10.0.0.1 is in a private range (10.0.0.0/8)"), nullopt when it may.
    std::optional<std::string> check_address(const boost::asio::ip::address& address) const;

  private:
    bool allow_listed(const boost::asio::ip::address& address) const;

    bool enabled_;
    std::vector<std::string> allowed_hosts_;
    std::vector<Subnet> allowed_subnets_;
};

/// The host as herald compares and resolves it: lower-case, without one trailing dot.
std::string normalize_host(std::string_view host);

}  // namespace herald::detail
