// delivery/http_date.hpp — HTTP dates as receivers send them in `Retry-After`: the IMF-fixdate
// every sender must use and the two obsolete forms a recipient must still read, parsed
// strictly (every field in range, nothing before or after) and without the C library's locale,
// time zone or integer overflow:
//
// clang-format off
//     auto t = herald::detail::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT", now);
//     // *t == 784111777 (seconds since the epoch)
//     herald::detail::parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", now);  // the same
//     herald::detail::parse_http_date("Sun Nov  6 08:49:37 1994", now);        // the same
// clang-format on
#pragma once

#include <herald/clock.hpp>

#include <cstdint>
#include <optional>
#include <string_view>

namespace herald::detail {

/// Seconds since the epoch of an HTTP date in any of its three forms; nullopt when `text` is
/// none of them exactly. A two-digit year (the RFC 850 form) that would lie more than 50 years
/// after `now` is read as the latest year before it with those two digits. The day of the
/// week must be a day's name but is not checked against the date, as the standard allows.
std::optional<std::int64_t> parse_http_date(std::string_view text, Timestamp now);

}  // namespace herald::detail
