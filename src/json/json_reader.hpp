// Reading herald's JSON formats strictly: every field typed, unknown fields refused, and every
// error naming the field by its path ("trigger.window", "states[1]").
#pragma once

#include <herald/clock.hpp>
#include <herald/pattern.hpp>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace herald::detail {

/// Parses JSON text, each number rounded correctly (what herald writes reads back as itself);
/// throws herald::Error (invalid_json) saying what is wrong and where, with the path of the
/// field it is in (see json_syntax.hpp).
boost::json::value parse_json(std::string_view text);

class ObjectReader {
  public:
    /// `path` is the field path of `value` ("" for the document). Throws when not an object.
    ObjectReader(const boost::json::value& value, std::string path);

    /// Whether `key` is present and not null; marks it as a known field either way.
    bool has(std::string_view key);

    // Required fields: throw herald::Error naming the field when missing or of the wrong type.
    std::string string(std::string_view key);
    double number(std::string_view key);
    std::int64_t positive_integer(std::string_view key);
    std::int64_t non_negative_integer(std::string_view key);
    bool boolean(std::string_view key);
    Pattern pattern(std::string_view key);
    Timestamp timestamp(std::string_view key);
    /// A JSON object, returned as its serialized text.
    std::string json_text(std::string_view key);
    ObjectReader object(std::string_view key);
    const boost::json::value& value(std::string_view key);
    /// A JSON array of strings; `field(i)` names element i in errors.
    std::vector<std::string> strings(std::string_view key);

    /// Refuses fields no call above asked about.
    void finish();

    std::string field(std::string_view key) const;
    [[noreturn]] void fail(std::string_view key, std::string reason) const;

  private:
    const boost::json::value& required(std::string_view key);

    const boost::json::object& object_;
    std::string path_;
    std::vector<std::string_view> known_;
};

}  // namespace herald::detail
