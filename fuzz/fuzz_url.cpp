// Fuzzes how herald reads a webhook URL and where it lets a request go, against a second
// implementation: an RFC 3986 splitter written here (scheme, userinfo, host, port) and, for the
// host, glibc's address parsers and the table of IANA's special-purpose registries
// (special_purpose.hpp). The input is a URL as an integration gives it, checked as herald does
// (integration validation, then the route of a send). Invariants: refusals are herald::Error or
// a route's failure; a URL herald routes splits the same way here (same scheme, host, port and
// Host header, no user info) with a request target that is safe on a request line; a host in
// which glibc reads an address (what the resolver is handed, up to a NUL) is refused by the
// default policy, and allow-listing everything, herald reads the same address, judges it as the
// table does, and an allow-list of two private ranges lets it through exactly when it is in one.
#include "delivery/request_target.hpp"
#include "integration/validate_integration.hpp"
#include "special_purpose.hpp"

#include <herald/error.hpp>

#include <boost/url/parse.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace {

namespace ip = boost::asio::ip;
using herald::detail::AddressPolicy;
using herald::detail::Route;

// The URL as RFC 3986 reads it, for the parts a request's destination depends on.
struct Split {
    std::string scheme;               // lower-case
    bool userinfo = false;            // the authority holds an '@'
    std::string authority;            // without user info
    std::string host;                 // percent-decoded; an IP literal without its brackets
    std::optional<std::string> port;  // the digits after ':', when there is one
};

[[noreturn]] void disagree(const char* what) {
    std::fprintf(stderr, "fuzz_url: %s\n", what);
    __builtin_trap();
}

bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_hex(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool is_unreserved(char c) {
    return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}
bool is_sub_delim(char c) {
    return std::string_view("!$&'()*+,;=").find(c) != std::string_view::npos;
}
// Any character a URI may hold outside percent-encodings (unreserved, gen-delims, sub-delims).
bool is_uri_char(char c) {
    return is_unreserved(c) || is_sub_delim(c) ||
           std::string_view(":/?#[]@").find(c) != std::string_view::npos;
}

// Whether every '%' in `text` starts a percent-encoding and every other character is a URI's.
bool well_formed(std::string_view text) {
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%') {
            if (i + 2 >= text.size() || !is_hex(text[i + 1]) || !is_hex(text[i + 2]))
                return false;
            i += 2;
        } else if (!is_uri_char(text[i])) {
            return false;
        }
    }
    return true;
}

int hex_value(char c) {
    return is_digit(c) ? c - '0' : (c | 0x20) - 'a' + 10;
}

std::string percent_decoded(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%') {
            out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
            i += 2;
        } else {
            out += text[i];
        }
    }
    return out;
}

// reg-name = *( unreserved / pct-encoded / sub-delims )
bool is_reg_name(std::string_view text) {
    return std::all_of(text.begin(), text.end(),
                       [](char c) { return is_unreserved(c) || is_sub_delim(c) || c == '%'; });
}

std::optional<Split> split_url(std::string_view text) {
    if (!well_formed(text))
        return std::nullopt;
    const auto colon = text.find(':');
    if (colon == std::string_view::npos || colon == 0 || !is_alpha(text[0]))
        return std::nullopt;
    Split split;
    for (char c : text.substr(0, colon)) {
        if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-' && c != '.')
            return std::nullopt;
        split.scheme += static_cast<char>(is_alpha(c) ? c | 0x20 : c);
    }
    std::string_view rest = text.substr(colon + 1);
    if (!rest.starts_with("//"))
        return std::nullopt;
    rest.remove_prefix(2);
    std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
    if (const auto at = authority.find('@'); at != std::string_view::npos) {
        split.userinfo = true;
        authority.remove_prefix(at + 1);
    }
    split.authority = std::string(authority);
    std::string_view after_host;
    if (authority.starts_with('[')) {
        const auto close = authority.find(']');
        if (close == std::string_view::npos)
            return std::nullopt;
        split.host = percent_decoded(authority.substr(1, close - 1));
        after_host = authority.substr(close + 1);
    } else {
        const auto port_colon = std::min(authority.find(':'), authority.size());
        if (!is_reg_name(authority.substr(0, port_colon)))
            return std::nullopt;
        split.host = percent_decoded(authority.substr(0, port_colon));
        after_host = authority.substr(port_colon);
    }
    if (!after_host.empty()) {
        if (after_host[0] != ':')
            return std::nullopt;
        after_host.remove_prefix(1);
        if (!std::all_of(after_host.begin(), after_host.end(), is_digit))
            return std::nullopt;
        split.port = std::string(after_host);
    }
    return split;
}

// The host as DNS compares it: ASCII case folded, one root dot dropped.
std::string dns_form(std::string host) {
    if (host.ends_with('.'))
        host.pop_back();
    for (char& c : host)
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c | 0x20);
    return host;
}

// The port a request to `split` goes to; nullopt when none can (0, or past 65535).
std::optional<std::uint16_t> port_of(const Split& split) {
    if (!split.port)
        return split.scheme == "https" ? 443 : 80;
    std::uint32_t value = 0;
    for (char c : *split.port) {
        value = value * 10 + static_cast<std::uint32_t>(c - '0');
        if (value > 65535)
            return std::nullopt;
    }
    if (split.port->empty() || value == 0)
        return std::nullopt;
    return static_cast<std::uint16_t>(value);
}

// The address glibc reads in the host the resolver is handed (a C string, so up to a NUL), with
// its root dots dropped, and an IPv6 zone ("fe80::1%eth0") set aside as getaddrinfo does.
std::optional<ip::address> glibc_address(const std::string& host) {
    std::string text(host.c_str());
    while (text.ends_with('.'))
        text.pop_back();
    if (auto address = herald_fuzz::c_library_address(text))
        return address;
    if (const auto zone = text.find('%'); zone != std::string::npos)
        if (auto address = herald_fuzz::c_library_address(text.substr(0, zone));
            address && address->is_v6())
            return address;
    return std::nullopt;
}

bool table_non_global(const ip::address& address) {
    return address.is_v4() ? herald_fuzz::v4_non_global(address.to_v4().to_bytes())
                           : herald_fuzz::v6_non_global(address.to_v6().to_bytes());
}

// Whether `address` is in 10.0.0.0/8 or fd00::/8, IPv4 also in its IPv4-mapped form.
bool in_private_allow_list(const ip::address& address) {
    if (address.is_v4())
        return address.to_v4().to_bytes()[0] == 10;
    const auto bytes = address.to_v6().to_bytes();
    if (herald_fuzz::in_prefix(bytes, "::ffff:0:0/96"))
        return bytes[12] == 10;
    return bytes[0] == 0xfd;
}

bool same_address(const ip::address& a, const ip::address& b) {
    if (a.is_v4() != b.is_v4())
        return false;
    return a.is_v4() ? a == b : a.to_v6().to_bytes() == b.to_v6().to_bytes();
}

// A request target safe on a request line: origin-form, URI characters only.
bool safe_request_target(std::string_view path) {
    return path.starts_with('/') && path.find('#') == std::string_view::npos && well_formed(path);
}

void check_route(const Route& route, const Split& split) {
    const auto& target = *route.target;
    if (split.userinfo)
        disagree("sent to a URL with user info: which host was meant?");
    if (target.tls != (split.scheme == "https") ||
        (split.scheme != "http" && split.scheme != "https"))
        disagree("another scheme than the URL's");
    if (target.host != dns_form(split.host))
        disagree("another host than the URL's");
    if (port_of(split) != target.port)
        disagree("another port than the URL's");
    if (target.host_header != split.authority)
        disagree("a Host header that names another authority");
    if (!safe_request_target(target.path))
        disagree("a request target unsafe on a request line");
}

void check(std::string_view text) {
    try {
        herald::detail::validate(
            herald::WebhookIntegration{.entity = "e", .name = "n", .url = std::string(text)});
    } catch (const herald::Error&) {
        return;
    }
    const auto url = boost::urls::parse_absolute_uri(text);
    if (!url)
        disagree("validated, yet the sender cannot read it");
    static const AddressPolicy strict{herald::SsrfPolicy{}};
    static const AddressPolicy open{herald::SsrfPolicy{.allowed_subnets = {"0.0.0.0/0", "::/0"}}};
    static const AddressPolicy listed{
        herald::SsrfPolicy{.allowed_subnets = {"10.0.0.0/8", "fd00::/8"}}};
    const Route permitted = herald::detail::route_request(*url, open);
    if (!permitted.target && permitted.failure == herald::delivery_errc::bad_url)
        disagree("validated, yet the sender finds no target in it");
    const auto split = split_url(text);
    if (permitted.target && !split)
        disagree("herald sends to a URL RFC 3986 does not read");
    if (!split)
        return;
    if (permitted.target)
        check_route(permitted, *split);
    const auto theirs = glibc_address(split->host);
    if (!theirs)
        return;
    if (herald::detail::route_request(*url, strict).target)
        disagree("an address glibc would connect to, let through as a name");
    if (!permitted.target)
        return;
    const auto& ours = permitted.host.literal;
    if (split->host.find('\0') != std::string::npos || !ours)
        return;
    if (!same_address(*ours, *theirs))
        disagree("herald reads another address than glibc does");
    if (strict.check_address(*ours).has_value() != table_non_global(*theirs))
        disagree("herald judges the address otherwise than the table");
    if (herald::detail::route_request(*url, listed).target.has_value() !=
        in_private_allow_list(*theirs))
        disagree("the allow-list lets through another set");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    check(std::string_view(reinterpret_cast<const char*>(data), size));
    return 0;
}
