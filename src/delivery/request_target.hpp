// delivery/request_target.hpp — what a send learns from its URL before any I/O: the scheme,
// host and port it goes to, and what the SSRF policy makes of that host. Pure functions, so the
// URL rules are unit-tested and fuzzed without sockets.
//
// clang-format off
//     const auto route = route_request(url_view{"https://hooks.example:8443/x"}, policy);
//     // route.target->host == "hooks.example", route.target->port == 8443, route.target->tls
//     const auto refused = route_request(url_view{"http://127.1/"}, policy);
//     // refused.failure == delivery_errc::ssrf_refused, refused.diagnostic: "ssrf: host 127.1 ..."
// clang-format on
#pragma once

#include "delivery/address_policy.hpp"

#include <herald/delivery_error.hpp>

#include <boost/url/url_view.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace herald::detail {

/// Where a request goes.
struct Target {
    bool tls = false;
    std::string host;  ///< decoded and normalized (`normalize_host`); IPv6 without brackets
    std::uint16_t port = 0;
    std::string host_header;
    std::string path;  ///< origin-form request target
    std::string key;   ///< the connection pool's (scheme, host, port)
};

/// The target of an absolute http or https URL with a host, no user info and a port from 1 to
/// 65535 (80 or 443 when it has none); nullopt for any other URL, and for a host that starts as
/// an IPv4 address and goes on ("10.0.0.1.nip.io"), which Boost.URL 1.81 misreads.
std::optional<Target> parse_target(boost::urls::url_view url);

/// A URL's target and what the policy says of its host, or why no request may go there.
struct Route {
    std::optional<Target> target;  ///< empty when refused
    HostDecision host;             ///< what the policy made of `target->host`, when set
    delivery_errc failure{};       ///< bad_url or ssrf_refused when `target` is empty
    std::string diagnostic;
};

/// Routes `url` under `policy`: a URL `parse_target` refuses is bad_url; an IPvFuture literal or
/// a host the policy refuses is ssrf_refused.
Route route_request(boost::urls::url_view url, const AddressPolicy& policy);

}  // namespace herald::detail
