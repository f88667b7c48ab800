// Template compilation: a strict JSON parser that keeps source offsets, so every error names
// its spot, and emits compact JSON literals with substitutions between them.
#include "json/json_syntax.hpp"
#include "json/json_text.hpp"
#include "template/compiled_template.hpp"

#include <herald/error.hpp>
#include <herald/template.hpp>

#include <boost/json/parse.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <set>

namespace herald {
namespace detail {
namespace {

constexpr int max_depth = 64;
constexpr std::size_t max_source_size = std::numeric_limits<std::uint32_t>::max() / 2;
constexpr std::size_t max_shown_name = 64;

/// A `${...}` found in a string, with the source offset of its `$`.
struct Reference {
    Variable variable;
    std::string name;  ///< the metadata key or secret name
    std::size_t offset;
};

/// A decoded JSON string (or the whole of a text template) and where each byte came from.
struct DecodedText {
    std::string bytes;
    std::vector<std::size_t> origin;  ///< source offset of each byte of `bytes`

    void add(char c, std::size_t offset) {
        bytes += c;
        origin.push_back(offset);
    }
};

class Compiler {
  public:
    Compiler(std::string_view source, const TemplateRules& rules) : source_(source), rules_(rules) {
        out_.trigger = rules.trigger;
        out_.format = rules.format;
    }

    CompiledTemplate run() {
        if (source_.size() > max_source_size)
            fail(errc::invalid_argument, 0, "the template is too large");
        if (rules_.format == TemplateFormat::text)
            text_document();
        else
            json_document();
        flush();
        std::sort(out_.secrets.begin(), out_.secrets.end());
        out_.secrets.erase(std::unique(out_.secrets.begin(), out_.secrets.end()),
                           out_.secrets.end());
        return std::move(out_);
    }

  private:
    // --- errors -------------------------------------------------------------------------

    [[noreturn]] void fail(errc code, std::size_t offset, std::string_view what) const {
        std::string reason = code == errc::invalid_json ? "invalid JSON at " : "at ";
        reason += text_place(source_, offset);
        reason += ": ";
        reason += what;
        throw Error(code, rules_.field, std::move(reason));
    }
    [[noreturn]] void syntax(std::string_view what) const { fail(errc::invalid_json, pos_, what); }

    static std::string shown(std::string_view name) {
        std::string s = "${";
        append_valid_utf8(s, name.substr(0, max_shown_name));
        if (name.size() > max_shown_name)
            s += "...";
        s += '}';
        return s;
    }

    // --- output -------------------------------------------------------------------------

    void flush() {
        if (pending_.empty())
            return;
        add_piece(Piece::Kind::literal, Variable::event_type, pending_);
        out_.literal_size += pending_.size();
        pending_.clear();
    }

    void add_piece(Piece::Kind kind, Variable variable, std::string_view text) {
        out_.pieces.push_back({.kind = kind,
                               .variable = variable,
                               .offset = static_cast<std::uint32_t>(out_.text.size()),
                               .size = static_cast<std::uint32_t>(text.size())});
        out_.text += text;
    }

    void substitute(Piece::Kind kind, const Reference& ref) {
        flush();
        add_piece(kind, ref.variable, ref.name);
    }

    // --- references ---------------------------------------------------------------------

    Reference classify(std::string_view name, std::size_t offset) const {
        if (const auto variable = find_variable(name)) {
            if (*variable == Variable::access_token && !rules_.access_token)
                fail(errc::invalid_argument, offset,
                     "${ACCESS_TOKEN} is only available in a webhook payload whose "
                     "integration has an access token");
            if (!applies_to(*variable, rules_.trigger))
                fail(errc::invalid_argument, offset,
                     shown(name) + " can never apply to " + std::string(to_string(rules_.trigger)) +
                         " events");
            std::string key;
            if (*variable == Variable::artifact_metadata_key)
                key = name.substr(metadata_key_prefix.size());
            return {*variable, std::move(key), offset};
        }
        if (!is_secret_name(name))
            fail(errc::invalid_argument, offset,
                 shown(name) +
                     " is not a variable name (letters, digits and `_`, or "
                     "artifact_metadata.<KEY>)");
        if (rules_.format == TemplateFormat::text)
            fail(errc::invalid_argument, offset,
                 shown(name) +
                     " is not a template variable, and a chat message may not use secrets: "
                     "it would post them to the channel");
        if (rules_.secret_exists && !rules_.secret_exists(name))
            fail(errc::invalid_argument, offset,
                 shown(name) + " is neither a template variable nor a secret of the entity");
        return {Variable::secret, std::string(name), offset};
    }

    /// Splits `text` into literal runs and references, calling `on_literal(string_view)` and
    /// `on_reference(Reference)` in order.
    template <class OnLiteral, class OnReference>
    void split(const DecodedText& text, OnLiteral on_literal, OnReference on_reference) {
        const std::string_view bytes = text.bytes;
        std::size_t i = 0;
        while (i < bytes.size()) {
            const std::size_t open = bytes.find("${", i);
            if (open == std::string_view::npos)
                break;
            const std::size_t close = bytes.find('}', open + 2);
            if (close == std::string_view::npos)
                fail(errc::invalid_argument, text.origin[open], "\"${\" is not closed by \"}\"");
            if (open > i)
                on_literal(bytes.substr(i, open - i));
            on_reference(classify(bytes.substr(open + 2, close - open - 2), text.origin[open]));
            i = close + 1;
        }
        if (i < bytes.size())
            on_literal(bytes.substr(i));
    }

    void record(const Reference& ref) {
        if (ref.variable == Variable::secret)
            out_.secrets.push_back(ref.name);
        else if (ref.variable == Variable::access_token)
            out_.access_token = true;
    }

    // --- text templates -----------------------------------------------------------------

    void text_document() {
        DecodedText text;
        for (pos_ = 0; pos_ < source_.size(); ++pos_) {
            if (static_cast<unsigned char>(source_[pos_]) >= 0x80) {
                std::size_t skip = 0;
                if (utf8_sequence(source_, pos_, &skip) == 0)
                    fail(errc::invalid_argument, pos_, "invalid UTF-8");
            }
            text.add(source_[pos_], pos_);
        }
        split(
            text, [&](std::string_view s) { pending_ += s; },
            [&](const Reference& ref) {
                record(ref);
                substitute(Piece::Kind::text, ref);
            });
    }

    // --- JSON templates -----------------------------------------------------------------

    void json_document() {
        skip_whitespace();
        if (pos_ >= source_.size() || source_[pos_] != '{')
            syntax(pos_ >= source_.size() ? "the template is empty; it must be a JSON object"
                                          : "the template must be a JSON object");
        value(0);
        skip_whitespace();
        if (pos_ != source_.size())
            syntax("unexpected text after the JSON document");
    }

    void skip_whitespace() {
        while (pos_ < source_.size() && (source_[pos_] == ' ' || source_[pos_] == '\t' ||
                                         source_[pos_] == '\n' || source_[pos_] == '\r'))
            ++pos_;
    }

    bool at(char c) const { return pos_ < source_.size() && source_[pos_] == c; }

    void expect(char c, std::string_view what) {
        skip_whitespace();
        if (!at(c))
            syntax(what);
        ++pos_;
    }

    void value(int depth) {
        skip_whitespace();
        if (depth > max_depth)
            syntax("nested deeper than 64 levels");
        if (pos_ >= source_.size())
            syntax("unexpected end; expected a value");
        switch (source_[pos_]) {
            case '{':
                return object(depth);
            case '[':
                return array(depth);
            case '"':
                return string_value();
            case 't':
                return word("true");
            case 'f':
                return word("false");
            case 'n':
                return word("null");
            default:
                return number();
        }
    }

    /// Reads the items of an object or array (pos_ at `open`) up to `close`, with `item`
    /// reading one member or element.
    template <class Item>
    void sequence(char open, char close, const char* what, Item item) {
        ++pos_;
        pending_ += open;
        skip_whitespace();
        if (at(close)) {
            ++pos_;
            pending_ += close;
            return;
        }
        for (;;) {
            item();
            skip_whitespace();
            if (at(',')) {
                ++pos_;
                pending_ += ',';
                continue;
            }
            expect(close, what);
            pending_ += close;
            return;
        }
    }

    void object(int depth) {
        std::set<std::string, std::less<>> keys;
        sequence('{', '}', "expected ',' or '}' in an object", [&] {
            skip_whitespace();
            if (!at('"'))
                syntax("expected a string key");
            const std::size_t key_offset = pos_;
            const DecodedText key = string_token();
            if (const std::size_t ref = key.bytes.find("${"); ref != std::string::npos)
                fail(errc::invalid_argument, key.origin[ref],
                     "variables are not allowed in object keys");
            if (!keys.insert(key.bytes).second)
                fail(errc::invalid_json, key_offset, "duplicate key");
            pending_ += '"';
            append_json_escaped(pending_, key.bytes);
            pending_ += "\":";
            expect(':', "expected ':' after an object key");
            value(depth + 1);
        });
    }

    void array(int depth) {
        sequence('[', ']', "expected ',' or ']' in an array", [&] { value(depth + 1); });
    }

    void string_value() {
        const DecodedText text = string_token();
        std::vector<Reference> refs;
        bool has_literal = false;
        split(
            text, [&](std::string_view) { has_literal = true; },
            [&](const Reference& ref) { refs.push_back(ref); });
        for (const Reference& ref : refs)
            record(ref);
        if (refs.size() == 1 && !has_literal) {
            substitute(Piece::Kind::json_value, refs.front());
            return;
        }
        pending_ += '"';
        split(
            text, [&](std::string_view s) { append_json_escaped(pending_, s); },
            [&](const Reference& ref) { substitute(Piece::Kind::json_string, ref); });
        pending_ += '"';
    }

    /// Reads a JSON string at pos_ (an opening quote) and decodes it.
    DecodedText string_token() {
        DecodedText text;
        ++pos_;
        for (;;) {
            if (pos_ >= source_.size())
                syntax("unterminated string");
            const std::size_t start = pos_;
            const auto c = static_cast<unsigned char>(source_[pos_]);
            if (c == '"') {
                ++pos_;
                return text;
            }
            if (c < 0x20)
                syntax("control character in a string (escape it)");
            if (c == '\\') {
                escape(text);
                continue;
            }
            if (c >= 0x80) {
                std::size_t skip = 0;
                const std::size_t n = utf8_sequence(source_, pos_, &skip);
                if (n == 0)
                    syntax("invalid UTF-8 in a string");
                for (std::size_t k = 0; k < n; ++k)
                    text.add(source_[pos_ + k], start);
                pos_ += n;
                continue;
            }
            text.add(source_[pos_++], start);
        }
    }

    void escape(DecodedText& text) {
        const std::size_t start = pos_;
        ++pos_;
        if (pos_ >= source_.size())
            syntax("unterminated string");
        const char c = source_[pos_++];
        switch (c) {
            case '"':
            case '\\':
            case '/':
                return text.add(c, start);
            case 'b':
                return text.add('\b', start);
            case 'f':
                return text.add('\f', start);
            case 'n':
                return text.add('\n', start);
            case 'r':
                return text.add('\r', start);
            case 't':
                return text.add('\t', start);
            case 'u':
                return unicode_escape(text, start);
            default:
                pos_ = start;
                syntax("invalid escape in a string");
        }
    }

    std::uint32_t hex4() {
        if (pos_ + 4 > source_.size())
            syntax("\\u needs four hex digits");
        std::uint32_t v = 0;
        for (int k = 0; k < 4; ++k) {
            const char h = source_[pos_++];
            v <<= 4;
            if (h >= '0' && h <= '9')
                v |= static_cast<std::uint32_t>(h - '0');
            else if (h >= 'a' && h <= 'f')
                v |= static_cast<std::uint32_t>(h - 'a' + 10);
            else if (h >= 'A' && h <= 'F')
                v |= static_cast<std::uint32_t>(h - 'A' + 10);
            else
                syntax("\\u needs four hex digits");
        }
        return v;
    }

    void unicode_escape(DecodedText& text, std::size_t start) {
        std::uint32_t cp = hex4();
        if (cp >= 0xDC00 && cp <= 0xDFFF)
            fail(errc::invalid_json, start, "a lone low surrogate in \\u escapes");
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (pos_ + 2 > source_.size() || source_[pos_] != '\\' || source_[pos_ + 1] != 'u')
                fail(errc::invalid_json, start, "a high surrogate without its low surrogate");
            pos_ += 2;
            const std::uint32_t low = hex4();
            if (low < 0xDC00 || low > 0xDFFF)
                fail(errc::invalid_json, start, "a high surrogate without its low surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        encode_utf8(text, cp, start);
    }

    static void encode_utf8(DecodedText& text, std::uint32_t cp, std::size_t origin) {
        const auto add = [&](std::uint32_t byte) { text.add(static_cast<char>(byte), origin); };
        if (cp < 0x80) {
            add(cp);
        } else if (cp < 0x800) {
            add(0xC0 | (cp >> 6));
            add(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            add(0xE0 | (cp >> 12));
            add(0x80 | ((cp >> 6) & 0x3F));
            add(0x80 | (cp & 0x3F));
        } else {
            add(0xF0 | (cp >> 18));
            add(0x80 | ((cp >> 12) & 0x3F));
            add(0x80 | ((cp >> 6) & 0x3F));
            add(0x80 | (cp & 0x3F));
        }
    }

    void word(std::string_view w) {
        if (source_.substr(pos_, w.size()) != w)
            syntax("expected a value");
        pos_ += w.size();
        pending_ += w;
    }

    static bool digit(char c) { return c >= '0' && c <= '9'; }

    void digits() {
        if (!at_digit())
            syntax("expected a digit");
        while (at_digit())
            ++pos_;
    }
    bool at_digit() const { return pos_ < source_.size() && digit(source_[pos_]); }

    void number() {
        const std::size_t start = pos_;
        if (at('-'))
            ++pos_;
        if (!at_digit())
            syntax("expected a value");
        if (at('0'))
            ++pos_;
        else
            digits();
        if (at('.')) {
            ++pos_;
            digits();
        }
        if (at('e') || at('E')) {
            ++pos_;
            if (at('+') || at('-'))
                ++pos_;
            digits();
        }
        const std::string_view literal = source_.substr(start, pos_ - start);
        // The grammar allows any exponent; boost::json (and so herald's own readers) refuses
        // one too large for it, and the template must not send what herald cannot read.
        boost::system::error_code ec;
        boost::json::parse(literal, ec);
        if (ec)
            fail(errc::invalid_json, start, "number out of range");
        pending_ += literal;
    }

    std::string_view source_;
    const TemplateRules& rules_;
    std::size_t pos_ = 0;
    std::string pending_;  ///< literal output not yet turned into a piece
    CompiledTemplate out_;
};

}  // namespace
}  // namespace detail

Template Template::compile(std::string_view source, const TemplateRules& rules) {
    Template t;
    t.compiled_ =
        std::make_shared<const detail::CompiledTemplate>(detail::Compiler(source, rules).run());
    return t;
}

}  // namespace herald
