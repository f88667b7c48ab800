#include "json/json_reader.hpp"
#include "json/json_syntax.hpp"

#include <herald/error.hpp>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_stack.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>

namespace herald::detail {
namespace json = boost::json;
namespace {

const json::object& as_object(const json::value& value, const std::string& path) {
    if (!value.is_object())
        throw Error(errc::invalid_argument, path.empty() ? "(document)" : path,
                    "must be a JSON object");
    return value.get_object();
}

std::string join(const std::string& path, std::string_view key) {
    if (path.empty())
        return std::string(key);
    std::string f = path;
    if (!key.empty() && key.front() != '[')
        f += '.';
    f += key;
    return f;
}

using boost::system::error_code;

// Boost.JSON's own handler (what json::stream_parser builds values with), but for one thing:
// Boost.JSON 1.81 reads some numbers a unit in the last place off ("5e-34"), so a double that
// herald wrote in its shortest exact form would not always read back as itself. Each double is
// read again from its text with std::from_chars, which rounds correctly.
struct PreciseHandler {
    static constexpr std::size_t max_object_size = json::object::max_size();
    static constexpr std::size_t max_array_size = json::array::max_size();
    static constexpr std::size_t max_key_size = json::string::max_size();
    static constexpr std::size_t max_string_size = json::string::max_size();

    json::value_stack values;
    std::string number;  // the parts of a number that the parser handed over so far

    bool on_document_begin(error_code&) { return true; }
    bool on_document_end(error_code&) { return true; }
    bool on_object_begin(error_code&) { return true; }
    bool on_object_end(std::size_t n, error_code&) {
        values.push_object(n);
        return true;
    }
    bool on_array_begin(error_code&) { return true; }
    bool on_array_end(std::size_t n, error_code&) {
        values.push_array(n);
        return true;
    }
    bool on_key_part(json::string_view s, std::size_t, error_code&) {
        values.push_chars(s);
        return true;
    }
    bool on_key(json::string_view s, std::size_t, error_code&) {
        values.push_key(s);
        return true;
    }
    bool on_string_part(json::string_view s, std::size_t, error_code&) {
        values.push_chars(s);
        return true;
    }
    bool on_string(json::string_view s, std::size_t, error_code&) {
        values.push_string(s);
        return true;
    }
    bool on_number_part(json::string_view s, error_code&) {
        number.append(s.data(), s.size());
        return true;
    }
    bool on_int64(std::int64_t i, json::string_view, error_code&) {
        number.clear();
        values.push_int64(i);
        return true;
    }
    bool on_uint64(std::uint64_t u, json::string_view, error_code&) {
        number.clear();
        values.push_uint64(u);
        return true;
    }
    bool on_double(double d, json::string_view s, error_code&) {
        number.append(s.data(), s.size());
        double precise = 0;
        const char* end = number.data() + number.size();
        // Out of range ("1e999") from_chars refuses; Boost.JSON's infinity stands.
        if (const auto result = std::from_chars(number.data(), end, precise);
            result.ec == std::errc{} && result.ptr == end)
            d = precise;
        number.clear();
        values.push_double(d);
        return true;
    }
    bool on_bool(bool b, error_code&) {
        values.push_bool(b);
        return true;
    }
    bool on_null(error_code&) {
        values.push_null();
        return true;
    }
    bool on_comment_part(json::string_view, error_code&) { return true; }
    bool on_comment(json::string_view, error_code&) { return true; }
};

}  // namespace

json::value parse_json(std::string_view text) {
    json::basic_parser<PreciseHandler> parser(json::parse_options{});
    parser.handler().values.reset();
    error_code ec;
    const std::size_t parsed = parser.write_some(true, text.data(), text.size(), ec);
    if (!ec && parsed < text.size())
        ec = json::error::extra_data;
    if (!ec)
        parser.write_some(false, nullptr, 0, ec);
    if (ec)
        throw json_syntax_error(text, ec == json::error::incomplete ? text.size() : parsed, ec);
    return parser.handler().values.release();
}

ObjectReader::ObjectReader(const json::value& value, std::string path)
    : object_(as_object(value, path)), path_(std::move(path)) {}

std::string ObjectReader::field(std::string_view key) const {
    return join(path_, key);
}

void ObjectReader::fail(std::string_view key, std::string reason) const {
    throw Error(errc::invalid_argument, field(key), std::move(reason));
}

bool ObjectReader::has(std::string_view key) {
    if (std::find(known_.begin(), known_.end(), key) == known_.end())
        known_.push_back(key);
    const json::value* v = object_.if_contains(key);
    return v && !v->is_null();
}

const json::value& ObjectReader::required(std::string_view key) {
    if (!has(key))
        fail(key, "is required");
    return object_.at(key);
}

const json::value& ObjectReader::value(std::string_view key) {
    return required(key);
}

std::string ObjectReader::string(std::string_view key) {
    const json::value& v = required(key);
    if (!v.is_string())
        fail(key, "must be a string");
    return std::string(v.get_string());
}

double ObjectReader::number(std::string_view key) {
    const json::value& v = required(key);
    if (!v.is_number())
        fail(key, "must be a number");
    return v.to_number<double>();
}

std::int64_t ObjectReader::non_negative_integer(std::string_view key) {
    const json::value& v = required(key);
    if (v.is_int64() && v.get_int64() >= 0)
        return v.get_int64();
    if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
        return static_cast<std::int64_t>(v.get_uint64());
    fail(key, "must be an integer >= 0");
}

std::int64_t ObjectReader::positive_integer(std::string_view key) {
    const json::value& v = required(key);
    if ((v.is_int64() && v.get_int64() > 0) ||
        (v.is_uint64() && v.get_uint64() > 0 &&
         v.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)))
        return v.to_number<std::int64_t>();
    fail(key, "must be a positive integer");
}

bool ObjectReader::boolean(std::string_view key) {
    const json::value& v = required(key);
    if (!v.is_bool())
        fail(key, "must be true or false");
    return v.get_bool();
}

Pattern ObjectReader::pattern(std::string_view key) {
    std::string source = string(key);
    try {
        return Pattern(std::move(source));
    } catch (const Error& e) {
        fail(key, e.reason());
    }
}

Timestamp ObjectReader::timestamp(std::string_view key) {
    auto t = parse_rfc3339(string(key));
    if (!t)
        fail(key, "must be an RFC 3339 time such as 2026-11-22T12:00:00Z");
    return *t;
}

std::string ObjectReader::json_text(std::string_view key) {
    const json::value& v = required(key);
    if (!v.is_object())
        fail(key, "must be a JSON object");
    return json::serialize(v);
}

ObjectReader ObjectReader::object(std::string_view key) {
    return ObjectReader(required(key), field(key));
}

std::vector<std::string> ObjectReader::strings(std::string_view key) {
    const json::value& v = required(key);
    if (!v.is_array())
        fail(key, "must be an array of strings");
    std::vector<std::string> out;
    for (std::size_t i = 0; i < v.get_array().size(); ++i) {
        const json::value& item = v.get_array()[i];
        if (!item.is_string())
            fail(std::string(key) + "[" + std::to_string(i) + "]", "must be a string");
        out.emplace_back(item.get_string());
    }
    return out;
}

void ObjectReader::finish() {
    for (const auto& [key, v] : object_)
        if (std::find(known_.begin(), known_.end(), key) == known_.end())
            fail(key, "unknown field");
}

}  // namespace herald::detail
