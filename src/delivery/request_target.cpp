#include "delivery/request_target.hpp"

#include <charconv>

namespace herald::detail {
namespace {

// The port given after ':', from 1 to 65535, read from its digits: Boost.URL 1.81's
// port_number() wraps past 65535 (65561 reads as 25) and is 0 for an empty port.
std::optional<std::uint16_t> explicit_port(std::string_view digits) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() || value == 0 ||
        value > 65535)
        return std::nullopt;
    return static_cast<std::uint16_t>(value);
}

Route refuse(delivery_errc failure, std::string diagnostic) {
    return {.failure = failure, .diagnostic = std::move(diagnostic)};
}

}  // namespace

std::optional<Target> parse_target(boost::urls::url_view url) {
    Target target;
    const auto scheme = url.scheme_id();
    if (scheme != boost::urls::scheme::http && scheme != boost::urls::scheme::https)
        return std::nullopt;
    if (!url.has_authority() || url.encoded_host().empty() || url.has_userinfo())
        return std::nullopt;
    // Behind an authority a path is empty or starts with '/'. Boost.URL 1.81 reads a host that
    // starts as an IPv4 address ("10.0.0.1.nip.io") as that address and the rest as the path
    // (".nip.io/"); such a host is refused rather than sent to the address it starts with.
    if (!url.encoded_path().empty() && !url.encoded_path().starts_with('/'))
        return std::nullopt;
    target.tls = scheme == boost::urls::scheme::https;
    target.host = normalize_host(url.host_address());
    if (url.has_port()) {
        const auto port = explicit_port(url.port());
        if (!port)
            return std::nullopt;
        target.port = *port;
    } else {
        target.port = target.tls ? 443 : 80;
    }
    target.host_header = url.encoded_host_and_port();
    target.path = url.encoded_path().empty() ? "/" + std::string(url.encoded_target())
                                             : std::string(url.encoded_target());
    target.key = std::string(target.tls ? "https://" : "http://") + target.host + ":" +
                 std::to_string(target.port);
    return target;
}

Route route_request(boost::urls::url_view url, const AddressPolicy& policy) {
    auto target = parse_target(url);
    if (!target)
        return refuse(delivery_errc::bad_url, "not an absolute http(s) URL with a host");
    if (url.host_type() == boost::urls::host_type::ipvfuture)
        return refuse(delivery_errc::ssrf_refused,
                      "ssrf: host " + target->host + " is an IPvFuture literal");
    auto host = policy.check_host(target->host);
    if (!host.refusal.empty())
        return refuse(delivery_errc::ssrf_refused, std::move(host.refusal));
    return {.target = std::move(target), .host = std::move(host)};
}

}  // namespace herald::detail
