// herald/delivery_error.hpp — why an HTTP(S) delivery attempt got no response.
//
// A delivery that reached the receiver completes with an HTTP status, whatever it is; these
// codes are for attempts that did not. They are `boost::system::error_code` values in the
// "herald.delivery" category; the attempt's diagnostic text says more (which SSRF rule, which
// address, what the TLS library reported):
//
// clang-format off
//     if (ec == herald::delivery_errc::ssrf_refused)
//         log(response.diagnostic);   // "ssrf: 10.0.0.1 is in a private range (10.0.0.0/8)"
// clang-format on
//
// Cancellation is reported as `boost::asio::error::operation_aborted`, as in Asio.
#pragma once

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace herald {

/// Network-level outcomes of a delivery attempt.
enum class delivery_errc {
    bad_url = 1,       ///< not an absolute http/https URL with a host
    ssrf_refused,      ///< the destination is not allowed (the diagnostic names the rule)
    resolve_failed,    ///< the host name did not resolve
    connect_failed,    ///< no address accepted the connection (refused, unreachable)
    connect_timeout,   ///< resolve + connect + TLS handshake exceeded the connect timeout
    timeout,           ///< the whole exchange exceeded the total timeout
    connection_reset,  ///< the receiver closed or reset the connection before a full response
    tls_failed,        ///< TLS handshake or certificate / host name verification failed
    protocol_error,    ///< the response is not valid HTTP/1.1 (or its header is too large)
    bad_request,       ///< a header cannot be sent (not a token, CR/LF in a value, or a framing
                       ///< header such as Content-Length that herald sets itself); permanent
};

/// The "herald.delivery" error category.
const boost::system::error_category& delivery_category() noexcept;

inline boost::system::error_code make_error_code(delivery_errc e) noexcept {
    return {static_cast<int>(e), delivery_category()};
}

}  // namespace herald

template <>
struct boost::system::is_error_code_enum<herald::delivery_errc> : std::true_type {};
