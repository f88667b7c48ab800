#include "json/json_text.hpp"

#include <boost/json/serialize.hpp>

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>

namespace herald::detail {
namespace {

constexpr std::string_view replacement_character = "\xEF\xBF\xBD";

}  // namespace

std::size_t utf8_sequence(std::string_view s, std::size_t i, std::size_t* skip) noexcept {
    const auto byte = [&](std::size_t k) -> unsigned {
        return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0x100u;
    };
    const unsigned lead = byte(0);
    std::size_t length = 0;
    unsigned low = 0x80, high = 0xBF;  // the bounds of the second byte
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        if (lead == 0xE0)
            low = 0xA0;
        else if (lead == 0xED)
            high = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        if (lead == 0xF0)
            low = 0x90;
        else if (lead == 0xF4)
            high = 0x8F;
    } else {
        *skip = 1;
        return 0;
    }
    for (std::size_t k = 1; k < length; ++k) {
        const unsigned b = byte(k);
        const bool ok = k == 1 ? (b >= low && b <= high) : (b >= 0x80 && b <= 0xBF);
        if (!ok) {
            *skip = k;
            return 0;
        }
    }
    return length;
}

namespace {

/// Bytes that need more than copying inside a JSON string: controls, '"', '\\', non-ASCII.
constexpr std::array<bool, 256> special_in_json = [] {
    std::array<bool, 256> t{};
    for (unsigned c = 0; c < 256; ++c)
        t[c] = c < 0x20 || c == '"' || c == '\\' || c >= 0x80;
    return t;
}();

void append_control_escape(std::string& out, unsigned char c) {
    switch (c) {
        case '\b':
            out += "\\b";
            return;
        case '\f':
            out += "\\f";
            return;
        case '\n':
            out += "\\n";
            return;
        case '\r':
            out += "\\r";
            return;
        case '\t':
            out += "\\t";
            return;
    }
    constexpr char hex[] = "0123456789abcdef";
    const char escaped[] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xF]};
    out.append(escaped, sizeof escaped);
}

/// Copies `text`, handing every byte `special` flags to `on_special`, which returns how many
/// bytes it consumed.
template <class OnSpecial>
void copy_with(std::string& out, std::string_view text, const std::array<bool, 256>& special,
               OnSpecial on_special) {
    std::size_t run = 0, i = 0;
    while (i < text.size()) {
        if (!special[static_cast<unsigned char>(text[i])]) {
            ++i;
            continue;
        }
        out.append(text.data() + run, i - run);
        i += on_special(i);
        run = i;
    }
    out.append(text.data() + run, text.size() - run);
}

/// Appends the UTF-8 sequence at text[i] (or U+FFFD) and returns its length.
std::size_t append_sequence(std::string& out, std::string_view text, std::size_t i) {
    std::size_t skip = 0;
    if (const std::size_t n = utf8_sequence(text, i, &skip)) {
        out.append(text.data() + i, n);
        return n;
    }
    out += replacement_character;
    return skip;
}

constexpr std::array<bool, 256> non_ascii = [] {
    std::array<bool, 256> t{};
    for (unsigned c = 0x80; c < 256; ++c)
        t[c] = true;
    return t;
}();

}  // namespace

void append_json_escaped(std::string& out, std::string_view text) {
    copy_with(out, text, special_in_json, [&](std::size_t i) -> std::size_t {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c >= 0x80)
            return append_sequence(out, text, i);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else {
            append_control_escape(out, c);
        }
        return 1;
    });
}

void append_valid_utf8(std::string& out, std::string_view text) {
    copy_with(out, text, non_ascii,
              [&](std::size_t i) -> std::size_t { return append_sequence(out, text, i); });
}

void append_number(std::string& out, double value) {
    if (std::isnan(value)) {
        out += "nan";
        return;
    }
    if (std::isinf(value)) {
        out += value < 0 ? "-inf" : "inf";
        return;
    }
    // The shortest form of negative zero, "-0", reads back as the integer 0.
    if (value == 0 && std::signbit(value)) {
        out += "-0.0";
        return;
    }
    char buffer[32];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    out.append(buffer, result.ptr);
}

void append_json(std::string& out, std::span<const double> numbers) {
    out += '[';
    for (std::size_t i = 0; i < numbers.size(); ++i) {
        if (i != 0)
            out += ',';
        if (std::isfinite(numbers[i]))
            append_number(out, numbers[i]);
        else
            out += "null";
    }
    out += ']';
}

void append_json(std::string& out, const boost::json::value& value) {
    switch (value.kind()) {
        case boost::json::kind::null:
            out += "null";
            return;
        case boost::json::kind::bool_:
            out += value.get_bool() ? "true" : "false";
            return;
        case boost::json::kind::int64:
            out += std::to_string(value.get_int64());
            return;
        case boost::json::kind::uint64:
            out += std::to_string(value.get_uint64());
            return;
        case boost::json::kind::double_:
            if (std::isfinite(value.get_double()))
                append_number(out, value.get_double());
            else
                out += "null";
            return;
        case boost::json::kind::string:
            out += '"';
            append_json_escaped(out, value.get_string());
            out += '"';
            return;
        case boost::json::kind::array: {
            out += '[';
            bool first = true;
            for (const auto& element : value.get_array()) {
                if (!first)
                    out += ',';
                first = false;
                append_json(out, element);
            }
            out += ']';
            return;
        }
        case boost::json::kind::object: {
            out += '{';
            bool first = true;
            for (const auto& member : value.get_object()) {
                if (!first)
                    out += ',';
                first = false;
                out += '"';
                append_json_escaped(out, member.key());
                out += "\":";
                append_json(out, member.value());
            }
            out += '}';
            return;
        }
    }
}

void JsonWriter::separate() {
    if (after_key_)
        after_key_ = false;
    else if (!first_)
        out_ += ',';
    first_ = false;
}

JsonWriter& JsonWriter::open(char bracket) {
    separate();
    out_ += bracket;
    first_ = true;
    return *this;
}

JsonWriter& JsonWriter::close(char bracket) {
    out_ += bracket;
    first_ = false;
    return *this;
}

JsonWriter& JsonWriter::key(std::string_view name) {
    string(name);
    out_ += ':';
    after_key_ = true;
    return *this;
}

JsonWriter& JsonWriter::string(std::string_view value) {
    separate();
    out_ += '"';
    append_json_escaped(out_, value);
    out_ += '"';
    return *this;
}

JsonWriter& JsonWriter::integer(std::int64_t value) {
    separate();
    char buffer[24];
    out_.append(buffer, std::to_chars(buffer, buffer + sizeof buffer, value).ptr);
    return *this;
}

JsonWriter& JsonWriter::number(double value) {
    separate();
    append_number(out_, value);
    return *this;
}

JsonWriter& JsonWriter::boolean(bool value) {
    separate();
    out_ += value ? "true" : "false";
    return *this;
}

namespace {

bool valid_utf8(std::string_view text) noexcept {
    for (std::size_t i = 0, skip = 0; i < text.size();) {
        if (static_cast<unsigned char>(text[i]) < 0x80)
            ++i;
        else if (const std::size_t n = utf8_sequence(text, i, &skip))
            i += n;
        else
            return false;
    }
    return true;
}

/// Whether JSON text holds `value` as it is: its text UTF-8, its numbers finite.
bool fits_json(const boost::json::value& value) {
    switch (value.kind()) {
        case boost::json::kind::double_:
            return std::isfinite(value.get_double());
        case boost::json::kind::string:
            return valid_utf8(value.get_string());
        case boost::json::kind::array:
            for (const auto& item : value.get_array())
                if (!fits_json(item))
                    return false;
            return true;
        case boost::json::kind::object:
            for (const auto& [key, item] : value.get_object())
                if (!valid_utf8(key) || !fits_json(item))
                    return false;
            return true;
        default:
            return true;
    }
}

std::string repaired_text(std::string_view text) {
    std::string out;
    append_valid_utf8(out, text);
    return out;
}

/// `value` with what does not fit JSON text replaced: U+FFFD for what is not UTF-8, null for
/// a non-finite number.
boost::json::value repaired(const boost::json::value& value) {
    switch (value.kind()) {
        case boost::json::kind::double_:
            return std::isfinite(value.get_double()) ? value : boost::json::value(nullptr);
        case boost::json::kind::string:
            return boost::json::value(repaired_text(value.get_string()));
        case boost::json::kind::array: {
            boost::json::array out;
            for (const auto& item : value.get_array())
                out.push_back(repaired(item));
            return out;
        }
        case boost::json::kind::object: {
            boost::json::object out;
            for (const auto& [key, item] : value.get_object())
                out[repaired_text(key)] = repaired(item);
            return out;
        }
        default:
            return value;
    }
}

}  // namespace

JsonWriter& JsonWriter::value(const boost::json::value& value) {
    separate();
    if (fits_json(value))
        out_ += boost::json::serialize(value);
    else
        out_ += boost::json::serialize(repaired(value));
    return *this;
}

}  // namespace herald::detail
