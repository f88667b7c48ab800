#include <herald/clock.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>

namespace herald {

Timestamp SystemClock::now() const {
    return std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now());
}

namespace {

/// Writes `value` as `digits` decimal digits, zero-padded, at `out`.
char* put_digits(char* out, long long value, int digits) {
    for (int i = digits - 1; i >= 0; --i) {
        out[i] = static_cast<char>('0' + value % 10);
        value /= 10;
    }
    return out + digits;
}

}  // namespace

std::string format_rfc3339(Timestamp t) {
    using namespace std::chrono;
    const auto days = floor<std::chrono::days>(t);
    const year_month_day date{days};
    const hh_mm_ss time{floor<nanoseconds>(t - days)};
    char buf[40];
    char* out = put_digits(buf, static_cast<int>(date.year()), 4);
    *out++ = '-';
    out = put_digits(out, static_cast<unsigned>(date.month()), 2);
    *out++ = '-';
    out = put_digits(out, static_cast<unsigned>(date.day()), 2);
    *out++ = 'T';
    out = put_digits(out, time.hours().count(), 2);
    *out++ = ':';
    out = put_digits(out, time.minutes().count(), 2);
    *out++ = ':';
    out = put_digits(out, time.seconds().count(), 2);
    if (long long nanos = time.subseconds().count(); nanos != 0) {
        int digits = 9;
        while (nanos % 10 == 0) {
            nanos /= 10;
            --digits;
        }
        *out++ = '.';
        out = put_digits(out, nanos, digits);
    }
    *out++ = 'Z';
    return std::string(buf, out);
}

}  // namespace herald

namespace herald {
namespace {

bool read_digits(std::string_view& s, std::size_t n, int& out) {
    if (s.size() < n)
        return false;
    out = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        out = out * 10 + (s[i] - '0');
    }
    s.remove_prefix(n);
    return true;
}

bool expect(std::string_view& s, char c) {
    if (s.empty() || (s.front() != c && !(c == 'T' && s.front() == 't')))
        return false;
    s.remove_prefix(1);
    return true;
}

}  // namespace

std::optional<Timestamp> parse_rfc3339(std::string_view s) {
    using namespace std::chrono;
    int y, mo, d, h, mi, sec;
    if (!read_digits(s, 4, y) || !expect(s, '-') || !read_digits(s, 2, mo) || !expect(s, '-') ||
        !read_digits(s, 2, d) || !expect(s, 'T') || !read_digits(s, 2, h) || !expect(s, ':') ||
        !read_digits(s, 2, mi) || !expect(s, ':') || !read_digits(s, 2, sec))
        return std::nullopt;
    const year_month_day date{year{y}, month{static_cast<unsigned>(mo)},
                              day{static_cast<unsigned>(d)}};
    if (!date.ok() || h > 23 || mi > 59 || sec > 60)
        return std::nullopt;
    std::int64_t frac_ns = 0;
    if (!s.empty() && s.front() == '.') {
        s.remove_prefix(1);
        std::int64_t scale = 100'000'000;
        std::size_t digits = 0;
        while (!s.empty() && s.front() >= '0' && s.front() <= '9') {
            frac_ns += (s.front() - '0') * scale;
            scale /= 10;
            s.remove_prefix(1);
            ++digits;
        }
        if (digits == 0)
            return std::nullopt;
    }
    int offset_minutes = 0;
    if (!s.empty() && (s.front() == 'Z' || s.front() == 'z')) {
        s.remove_prefix(1);
    } else if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
        const int sign = s.front() == '+' ? 1 : -1;
        s.remove_prefix(1);
        int oh, om;
        if (!read_digits(s, 2, oh) || !expect(s, ':') || !read_digits(s, 2, om))
            return std::nullopt;
        offset_minutes = sign * (oh * 60 + om);
    } else {
        return std::nullopt;
    }
    if (!s.empty())
        return std::nullopt;
    // A Timestamp counts nanoseconds in 64 bits (about 1678 to 2262): a time outside that range,
    // less a day so that formatting it (which rounds to days) stays inside, is refused rather
    // than wrapped around.
    const auto t = sys_days{date} + hours{h} + minutes{mi} + seconds{sec} - minutes{offset_minutes};
    constexpr auto limit = duration_cast<seconds>(Timestamp::duration::max()) - days{1};
    if (t.time_since_epoch() > limit || t.time_since_epoch() < -limit)
        return std::nullopt;
    return Timestamp{duration_cast<nanoseconds>(t.time_since_epoch()) + nanoseconds{frac_ns}};
}

}  // namespace herald
