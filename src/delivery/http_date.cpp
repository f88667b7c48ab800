#include "delivery/http_date.hpp"

#include <algorithm>
#include <array>
#include <chrono>

namespace herald::detail {
namespace {

constexpr std::array<std::string_view, 7> short_days{"Mon", "Tue", "Wed", "Thu",
                                                     "Fri", "Sat", "Sun"};
constexpr std::array<std::string_view, 7> long_days{"Monday", "Tuesday",  "Wednesday", "Thursday",
                                                    "Friday", "Saturday", "Sunday"};
constexpr std::array<std::string_view, 12> months{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/// Reads `text` from the front, field by field; any mismatch leaves it failed for good.
class Reader {
  public:
    explicit Reader(std::string_view text) : rest_(text) {}

    bool ok() const noexcept { return ok_; }
    bool done() const noexcept { return ok_ && rest_.empty(); }

    void literal(std::string_view expected) {
        if (ok_ && rest_.starts_with(expected))
            rest_.remove_prefix(expected.size());
        else
            ok_ = false;
    }
    /// Exactly `count` decimal digits; with `space_padded`, a leading space may stand for a zero.
    int digits(std::size_t count, bool space_padded = false) {
        int value = 0;
        for (std::size_t i = 0; ok_ && i < count; ++i) {
            const char c = i < rest_.size() ? rest_[i] : '\0';
            if (c >= '0' && c <= '9')
                value = value * 10 + (c - '0');
            else if (!(space_padded && i == 0 && c == ' '))
                ok_ = false;
        }
        if (ok_)
            rest_.remove_prefix(count);
        return value;
    }
    /// The index of the name among `names` that `text` continues with.
    template <std::size_t N>
    int name(const std::array<std::string_view, N>& names) {
        for (std::size_t i = 0; ok_ && i < N; ++i)
            if (rest_.starts_with(names[i])) {
                rest_.remove_prefix(names[i].size());
                return static_cast<int>(i);
            }
        ok_ = false;
        return 0;
    }

  private:
    std::string_view rest_;
    bool ok_ = true;
};

struct Fields {
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
};

void read_time(Reader& r, Fields& f) {
    f.hour = r.digits(2);
    r.literal(":");
    f.minute = r.digits(2);
    r.literal(":");
    f.second = r.digits(2);
}

bool is_leap(int year) {
    return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
}

int days_in_month(int year, int month) {
    static constexpr std::array<int, 12> days{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 1 && is_leap(year) ? 29 : days[static_cast<std::size_t>(month)];
}

/// Seconds since the epoch of valid fields (a leap second, :60, counts as the next second).
std::optional<std::int64_t> seconds_of(const Fields& f) {
    if (f.day < 1 || f.day > days_in_month(f.year, f.month) || f.hour > 23 || f.minute > 59 ||
        f.second > 60)
        return std::nullopt;
    const std::chrono::year_month_day date{std::chrono::year{f.year},
                                           std::chrono::month{static_cast<unsigned>(f.month) + 1},
                                           std::chrono::day{static_cast<unsigned>(f.day)}};
    const std::int64_t days = std::chrono::sys_days{date}.time_since_epoch().count();
    return days * 86400 + f.hour * 3600 + f.minute * 60 + f.second;
}

/// "Sun, 06 Nov 1994 08:49:37 GMT"
std::optional<Fields> imf_fixdate(std::string_view text) {
    Reader r{text};
    Fields f;
    r.name(short_days);
    r.literal(", ");
    f.day = r.digits(2);
    r.literal(" ");
    f.month = r.name(months);
    r.literal(" ");
    f.year = r.digits(4);
    r.literal(" ");
    read_time(r, f);
    r.literal(" GMT");
    return r.done() ? std::optional<Fields>(f) : std::nullopt;
}

/// "Sunday, 06-Nov-94 08:49:37 GMT"
std::optional<Fields> rfc850_date(std::string_view text, Timestamp now) {
    Reader r{text};
    Fields f;
    r.name(long_days);
    r.literal(", ");
    f.day = r.digits(2);
    r.literal("-");
    f.month = r.name(months);
    r.literal("-");
    const int two_digits = r.digits(2);
    r.literal(" ");
    read_time(r, f);
    r.literal(" GMT");
    if (!r.done())
        return std::nullopt;
    const int this_year = static_cast<int>(
        std::chrono::year_month_day{std::chrono::floor<std::chrono::days>(now)}.year());
    f.year = this_year - this_year % 100 + two_digits;
    if (f.year > this_year + 50)
        f.year -= 100;
    return f;
}

/// "Sun Nov  6 08:49:37 1994"
std::optional<Fields> asctime_date(std::string_view text) {
    Reader r{text};
    Fields f;
    r.name(short_days);
    r.literal(" ");
    f.month = r.name(months);
    r.literal(" ");
    f.day = r.digits(2, true);
    r.literal(" ");
    read_time(r, f);
    r.literal(" ");
    f.year = r.digits(4);
    return r.done() ? std::optional<Fields>(f) : std::nullopt;
}

}  // namespace

std::optional<std::int64_t> parse_http_date(std::string_view text, Timestamp now) {
    std::optional<Fields> fields = imf_fixdate(text);
    if (!fields)
        fields = rfc850_date(text, now);
    if (!fields)
        fields = asctime_date(text);
    return fields ? seconds_of(*fields) : std::nullopt;
}

}  // namespace herald::detail
