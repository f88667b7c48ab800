// Fuzzes the SSRF rules against the second implementation of special_purpose.hpp: glibc's own
// address parsers and a table of non-global ranges from IANA's special-purpose registries.
// The input as a URL host: with the default policy every text glibc reads as an address is
// refused (an IP literal is never contacted unless allow-listed), and allow-listing everything,
// herald reads it as the same address glibc does. The input's first 16 bytes as an address:
// herald finds it non-global exactly when the table here does.
#include "delivery/address_policy.hpp"
#include "special_purpose.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace {

namespace ip = boost::asio::ip;
using herald_fuzz::c_library_address;
using herald_fuzz::v4_non_global;
using herald_fuzz::v6_non_global;

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
