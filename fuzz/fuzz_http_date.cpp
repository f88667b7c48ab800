// Fuzzes `Retry-After` and HTTP dates against the C library as a second implementation, both
// ways. The input as text: parsing never crashes (no overflow, whatever the digits), a wait is
// never negative nor beyond the cap, and a text herald reads as a date is read by glibc's
// strptime with the form's pattern as the same instant. The first eight bytes as an instant
// between years 0 and 9999: the three forms strftime writes for it all read back as it.
#include "delivery/http_date.hpp"
#include "dispatch/delivery_policy.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>

namespace {

using namespace std::chrono_literals;

constexpr std::int64_t year_0 = -62167219200;      // 0000-01-01T00:00:00Z
constexpr std::int64_t year_10000 = 253402300800;  // 10000-01-01T00:00:00Z
constexpr const char* imf = "%a, %d %b %Y %H:%M:%S GMT";
constexpr const char* rfc850 = "%A, %d-%b-%y %H:%M:%S GMT";
constexpr const char* asctime_form = "%a %b %e %H:%M:%S %Y";

/// glibc's reading of `text` in `form`, as the fields it filled; false when it refuses.
bool c_library_reads(const std::string& text, const char* form, std::tm& tm) {
    tm = {};
    const char* end = strptime(text.c_str(), form, &tm);
    return end != nullptr && *end == '\0';
}

std::tm utc_fields(std::int64_t seconds) {
    const std::time_t t = static_cast<std::time_t>(seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    return tm;
}

bool same_moment_of_day(const std::tm& a, const std::tm& b) {
    return a.tm_mon == b.tm_mon && a.tm_mday == b.tm_mday && a.tm_hour == b.tm_hour &&
           a.tm_min == b.tm_min && a.tm_sec == b.tm_sec;
}

void check_text(std::string_view text) {
    const herald::Timestamp now{std::chrono::sys_days{std::chrono::year{2026} / 12 / 2}};
    if (auto wait = herald::detail::parse_retry_after(text, now))
        if (*wait < 0s || *wait > std::chrono::seconds{std::int64_t{1} << 30})
            __builtin_trap();  // a wait outside [0, cap]
    const auto seconds = herald::detail::parse_http_date(text, now);
    if (!seconds)
        return;
    // Four-digit years only (a leap second at the end of 9999 is the first second of 10000).
    if (*seconds < year_0 || *seconds > year_10000)
        __builtin_trap();
    const std::string s(text);
    std::tm tm{};
    const std::tm ours = utc_fields(*seconds);
    if (c_library_reads(s, imf, tm) || c_library_reads(s, asctime_form, tm)) {
        // A leap second is the next second for herald; strptime keeps :60.
        if (tm.tm_sec == 60)
            return;
        if (!same_moment_of_day(tm, ours) || tm.tm_year != ours.tm_year)
            __builtin_trap();  // glibc reads another instant
    } else if (c_library_reads(s, rfc850, tm)) {
        // strptime's %y puts 69-99 in the 1900s; herald's year follows `now` instead.
        if (tm.tm_sec != 60 &&
            (!same_moment_of_day(tm, ours) || tm.tm_year % 100 != ours.tm_year % 100))
            __builtin_trap();
    } else {
        __builtin_trap();  // herald reads a date glibc does not
    }
}

void check_instant(const std::uint8_t* data) {
    std::uint64_t raw = 0;
    std::memcpy(&raw, data, sizeof raw);
    const std::int64_t seconds =
        year_0 + static_cast<std::int64_t>(raw % static_cast<std::uint64_t>(year_10000 - year_0));
    const std::tm tm = utc_fields(seconds);
    // `now` is the instant itself where a nanosecond Timestamp holds it (years 1678 to 2261),
    // so a two-digit year means its own century.
    const std::int64_t now_seconds =
        std::clamp<std::int64_t>(seconds, -9'000'000'000, 9'000'000'000);
    const herald::Timestamp now{std::chrono::seconds{now_seconds}};
    for (const char* form : {imf, rfc850, asctime_form}) {
        char text[64];
        if (std::strftime(text, sizeof text, form, &tm) == 0)
            __builtin_trap();
        // strftime writes %Y unpadded below year 1000, which is no HTTP date.
        if (form == rfc850 ? now_seconds != seconds : tm.tm_year + 1900 < 1000)
            continue;
        const auto read = herald::detail::parse_http_date(text, now);
        if (!read || *read != seconds)
            __builtin_trap();  // an HTTP date strftime wrote reads as another instant, or not
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size >= 8)
        check_instant(data);
    check_text(std::string_view(reinterpret_cast<const char*>(data), size));
    return 0;
}
