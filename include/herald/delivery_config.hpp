// herald/delivery_config.hpp — how herald's HTTP(S) deliveries reach the network.
//
// Timeouts, bounds, TLS trust and the SSRF rules for outgoing webhook and Slack requests.
// Every field has a safe default; a host typically only sets a CA bundle or, in tests and
// private deployments, allow-lists the receivers it trusts:
//
// clang-format off
//     herald::DeliveryConfig config;
//     config.total_timeout = std::chrono::seconds{10};
//     config.ssrf.allowed_subnets = {"127.0.0.0/8"};   // a receiver on loopback (tests)
//     config.ssrf.allowed_hosts = {"hooks.internal.example"};
// clang-format on
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace herald {

/// Server-side request forgery protection. On by default: only `http`/`https`
/// URLs; IP-literal hosts (in every spelling: `2130706433`, `0x7f000001`, `0177.0.0.1`,
/// `127.1`, `[::1]`, `[::ffff:127.0.0.1]`) and `localhost` are refused; every address a
/// name resolves to must be globally routable (no loopback, private, link-local, CGNAT,
/// multicast, reserved, documentation, unique-local or IPv4-mapped forms of these), and the
/// connection goes to the address that was checked. A refused URL fails with
/// `delivery_errc::ssrf_refused` and a diagnostic naming the rule.
struct SsrfPolicy {
    /// Turns every check off. Only for hosts that run herald where no internal service is
    /// reachable; tests should allow-list instead.
    bool enabled = true;
    /// Host names (case-insensitive, trailing dot ignored) trusted as they are: no address
    /// checks for them. An IP literal may be listed too ("127.0.0.1", "::1").
    std::vector<std::string> allowed_hosts;
    /// CIDR subnets ("127.0.0.0/8", "10.1.0.0/16", "::1/128") whose addresses are accepted,
    /// whether they come from DNS or from an IP-literal host. Malformed entries make the
    /// client's constructor throw `herald::Error` (errc::invalid_argument,
    /// "ssrf.allowed_subnets[i]").
    std::vector<std::string> allowed_subnets;
};

/// Configuration of herald's HTTP(S) client (plain values; copied into the client).
/// Timeouts are enforced by one watchdog per client that looks at the requests in flight every
/// tenth of the shorter timeout (at least 10 ms, at most 250 ms apart), so a request may run
/// that much past its timeout; no timer is armed per socket operation.
struct DeliveryConfig {
    /// Time allowed to resolve, connect and (for https) finish the TLS handshake.
    std::chrono::milliseconds connect_timeout = std::chrono::seconds{5};
    /// Time allowed for one request from the moment it is given a connection slot until the
    /// response has been read; it includes the connect. Time spent waiting for a slot (see the
    /// in-flight bounds) is not counted: a queue behind a busy endpoint is not that request's
    /// fault.
    std::chrono::milliseconds total_timeout = std::chrono::seconds{15};
    /// Response bodies are kept up to this many bytes; the rest is discarded, the response is
    /// marked truncated and its connection closed.
    std::size_t max_response_body = 64 * 1024;
    /// Response headers larger than this fail the request as a protocol error.
    std::size_t max_response_header = 16 * 1024;
    /// Requests in flight to one (scheme, host, port); more wait in FIFO order. This is also
    /// the most connections herald opens to one endpoint.
    std::size_t max_in_flight_per_endpoint = 8;
    /// Requests in flight overall. A request first takes its endpoint's slot, then an overall
    /// one, so a slow endpoint holds at most `max_in_flight_per_endpoint` overall slots. Also
    /// the most idle keep-alive connections kept overall, whatever the number of endpoints (the
    /// one idle longest is closed to make room), so herald holds at most twice this many sockets.
    std::size_t max_in_flight_total = 1024;
    /// An idle keep-alive connection is closed once it has been idle this long.
    std::chrono::milliseconds idle_timeout = std::chrono::seconds{30};
    /// PEM file of CA certificates trusted for https, in place of the system's default trust
    /// store. Empty: the system's default paths. Certificate chains and host names are always
    /// verified.
    std::string ca_file;
    /// Sent as the `User-Agent` header of every request.
    std::string user_agent = "herald/0.1";
    /// Which destinations may be contacted.
    SsrfPolicy ssrf;
};

}  // namespace herald
