#include "delivery/request_target.hpp"

namespace herald::detail {
namespace {

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
    target.tls = scheme == boost::urls::scheme::https;
    target.host = normalize_host(url.host_address());
    if (url.has_port()) {
        if (url.port().empty() || url.port_number() == 0)
            return std::nullopt;
        target.port = url.port_number();
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
