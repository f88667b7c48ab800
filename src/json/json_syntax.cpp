#include "json/json_syntax.hpp"

#include <boost/json/error.hpp>
#include <boost/json/parse_options.hpp>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <vector>

namespace herald::detail {
namespace {

/// What may come next outside a string.
enum class Expect { value, value_or_end, key, key_or_end, colon, comma_or_end, nothing };

/// An object or array the scan is inside.
struct Frame {
    bool object = false;
    std::string key;  ///< the key of the member being read (objects)
    bool has_key = false;
    std::size_t index = 0;  ///< the element being read (arrays)
};

/// A `\uXXXX` escape: where it starts and the code unit it gives.
struct UnicodeEscape {
    std::size_t start = 0;
    std::uint32_t unit = 0;
};

bool is_high_surrogate(std::uint32_t u) {
    return u >= 0xD800 && u <= 0xDBFF;
}
bool is_low_surrogate(std::uint32_t u) {
    return u >= 0xDC00 && u <= 0xDFFF;
}

bool is_delimiter(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == ']' || c == '}' ||
           c == ':';
}

/// The state of JSON text read up to some offset. The parser accepted everything before the
/// offset, so the scan only follows structure: containers, keys, strings and their escapes.
class Scan {
  public:
    Scan(std::string_view text, std::size_t end) : text_(text) {
        for (std::size_t i = 0; i < end; ++i)
            step(i);
    }

    /// The field path of the value at the end of the scan, in ObjectReader's form.
    std::string path() const {
        std::string out;
        for (std::size_t i = 0; i < frames_.size(); ++i) {
            const Frame& f = frames_[i];
            const bool innermost = i + 1 == frames_.size();
            // Between members the innermost container is where the error is, not a member.
            if (innermost && !in_value())
                break;
            if (f.object && f.has_key)
                out += (out.empty() ? "" : ".") + f.key;
            else if (!f.object)
                out += "[" + std::to_string(f.index) + "]";
        }
        return out;
    }

    /// What is wrong at the end of the scan, where the parser stopped with `ec`, and where it
    /// starts (an escape may begin before the parser's offset).
    std::pair<std::string, std::size_t> diagnose(std::size_t offset,
                                                 boost::system::error_code ec) const {
        namespace json = boost::json;
        if (ec == json::error::too_deep)
            return {"nested deeper than " + std::to_string(json::parse_options{}.max_depth) +
                        " arrays and objects",
                    offset};
        if (in_string_)
            return diagnose_in_string(offset, ec);
        if (offset >= text_.size()) {
            const bool blank = text_.find_first_not_of(" \t\r\n") == std::string_view::npos;
            return {blank ? "the text is empty" : "the text ends before the JSON value does",
                    offset};
        }
        if (in_scalar_ || ((expect_ == Expect::value || expect_ == Expect::value_or_end) &&
                           !is_delimiter(text_[offset]) && text_[offset] != '{' &&
                           text_[offset] != '[' && text_[offset] != '"')) {
            const std::size_t start = in_scalar_ ? scalar_start_ : offset;
            return {"not a number, true, false or null: " + token(start), start};
        }
        switch (expect_) {
            case Expect::value:
            case Expect::value_or_end:
                return {"expected a value", offset};
            case Expect::key:
                return {"expected a string key", offset};
            case Expect::key_or_end:
                return {"expected a string key or '}'", offset};
            case Expect::colon:
                return {"expected ':' after the key", offset};
            case Expect::comma_or_end:
                return {frames_.back().object ? "expected ',' or '}'" : "expected ',' or ']'",
                        offset};
            case Expect::nothing:
                return {"unexpected text after the JSON value", offset};
        }
        return {ec.message(), offset};
    }

  private:
    std::pair<std::string, std::size_t> diagnose_in_string(std::size_t offset,
                                                           boost::system::error_code ec) const {
        if (pending_high_)
            return {"a high surrogate " + escape_text(*pending_high_) +
                        " without its low surrogate (\\udc00-\\udfff) after it",
                    pending_high_->start};
        if (ec == boost::json::error::illegal_trailing_surrogate && last_escape_ &&
            is_low_surrogate(last_escape_->unit))
            return {"a lone low surrogate " + escape_text(*last_escape_) +
                        " (it must follow a high surrogate \\ud800-\\udbff)",
                    last_escape_->start};
        if (unicode_digits_)
            return {"\\u needs four hex digits", unicode_start_};
        if (offset >= text_.size())
            return {"the string starting here is not closed", string_start_};
        const auto byte = static_cast<unsigned char>(text_[offset]);
        if (after_backslash_)
            return {"invalid escape \\" + printable(byte) +
                        " (valid: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)",
                    offset - 1};
        if (byte < 0x20)
            return {"a control character (" + printable(byte) + ") in a string must be escaped",
                    offset};
        if (byte >= 0x80)
            return {"invalid UTF-8 (byte " + printable(byte) + ") in a string", offset};
        return {ec.message(), offset};
    }

    bool in_value() const {
        if (in_string_)
            return !string_is_key_;
        return in_scalar_ || expect_ == Expect::value || expect_ == Expect::value_or_end;
    }

    void value_done() { expect_ = frames_.empty() ? Expect::nothing : Expect::comma_or_end; }

    void step(std::size_t i) {
        const char c = text_[i];
        if (in_string_) {
            string_step(i, c);
            return;
        }
        if (in_scalar_) {
            if (!is_delimiter(c))
                return;
            in_scalar_ = false;
            value_done();
        }
        switch (c) {
            case ' ':
            case '\t':
            case '\n':
            case '\r':
                return;
            case '{':
            case '[':
                frames_.push_back({.object = c == '{'});
                expect_ = c == '{' ? Expect::key_or_end : Expect::value_or_end;
                return;
            case '}':
            case ']':
                frames_.pop_back();
                value_done();
                return;
            case ',':
                if (frames_.back().object) {
                    frames_.back().has_key = false;
                    expect_ = Expect::key;
                } else {
                    ++frames_.back().index;
                    expect_ = Expect::value;
                }
                return;
            case ':':
                expect_ = Expect::value;
                return;
            case '"':
                in_string_ = true;
                string_is_key_ = expect_ == Expect::key || expect_ == Expect::key_or_end;
                string_start_ = i;
                return;
            default:
                in_scalar_ = true;
                scalar_start_ = i;
        }
    }

    void string_step(std::size_t i, char c) {
        if (unicode_digits_) {
            if (++*unicode_digits_ == 4)
                unicode_done();
            return;
        }
        if (after_backslash_) {
            after_backslash_ = false;
            if (c == 'u')
                unicode_digits_ = 0;
            return;
        }
        if (c == '\\') {
            after_backslash_ = true;
            unicode_start_ = i;
            return;
        }
        if (c != '"')
            return;
        in_string_ = false;
        if (!string_is_key_) {
            value_done();
            return;
        }
        Frame& f = frames_.back();
        f.key = std::string(text_.substr(string_start_ + 1, i - string_start_ - 1));
        f.has_key = true;
        expect_ = Expect::colon;
    }

    void unicode_done() {
        unicode_digits_.reset();
        // The parser read this far, so the escape's four hex digits are there.
        const std::string_view digits = text_.substr(unicode_start_ + 2, 4);
        UnicodeEscape escape{.start = unicode_start_};
        std::from_chars(digits.data(), digits.data() + digits.size(), escape.unit, 16);
        if (pending_high_)
            pending_high_.reset();  // the parser took this one as its low surrogate
        else if (is_high_surrogate(escape.unit))
            pending_high_ = escape;
        last_escape_ = escape;
    }

    std::string escape_text(const UnicodeEscape& e) const {
        return std::string(text_.substr(e.start, 6));
    }

    /// A byte as itself when printable ASCII, else as 0xNN.
    static std::string printable(unsigned char byte) {
        if (byte > 0x20 && byte < 0x7F)
            return std::string(1, static_cast<char>(byte));
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02X", byte);
        return hex;
    }

    /// The text from `start` to the next delimiter, cut short, as printable ASCII.
    std::string token(std::size_t start) const {
        constexpr std::size_t most = 24;
        std::string out;
        for (std::size_t i = start; i < text_.size() && !is_delimiter(text_[i]); ++i) {
            if (out.size() >= most)
                return "'" + out + "...'";
            out += printable(static_cast<unsigned char>(text_[i]));
        }
        return "'" + out + "'";
    }

    std::string_view text_;
    std::vector<Frame> frames_;
    Expect expect_ = Expect::value;
    bool in_string_ = false;
    bool string_is_key_ = false;
    std::size_t string_start_ = 0;
    bool after_backslash_ = false;
    std::optional<int> unicode_digits_;  ///< hex digits read of a `\u` escape, while in one
    std::size_t unicode_start_ = 0;      ///< where the last escape's backslash is
    std::optional<UnicodeEscape> pending_high_;
    std::optional<UnicodeEscape> last_escape_;
    bool in_scalar_ = false;
    std::size_t scalar_start_ = 0;
};

}  // namespace

std::string text_place(std::string_view text, std::size_t offset) {
    const std::string_view before = text.substr(0, offset);
    const std::size_t line = 1 + std::count(before.begin(), before.end(), '\n');
    const std::size_t line_start = before.rfind('\n');
    const std::size_t column =
        offset - (line_start == std::string_view::npos ? 0 : line_start + 1) + 1;
    return "line " + std::to_string(line) + ", column " + std::to_string(column) + " (offset " +
           std::to_string(offset) + ")";
}

Error json_syntax_error(std::string_view text, std::size_t offset, boost::system::error_code ec) {
    offset = std::min(offset, text.size());
    const Scan scan(text, offset);
    const auto [what, at] = scan.diagnose(offset, ec);
    const std::string place = text.find('\n') == std::string_view::npos
                                  ? "column " + std::to_string(at + 1)
                                  : text_place(text, at);
    // Text cut short is wrong as a whole, not in one field; past the depth limit a path is a
    // long run of "[0]" that says nothing.
    const bool whole = ec == boost::json::error::incomplete || ec == boost::json::error::too_deep;
    return Error(errc::invalid_json, whole ? "" : scan.path(),
                 "invalid JSON at " + place + ": " + what);
}

}  // namespace herald::detail
