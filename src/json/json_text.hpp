// Writing text into JSON safely: string escaping with invalid UTF-8 replaced, and compact JSON
// values. Used by template rendering, where every byte of event data is untrusted, and by the
// writers of herald's JSON documents.
#pragma once

#include <boost/json/value.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace herald::detail {

/// The length of the valid UTF-8 sequence that starts at `text[i]`, a byte >= 0x80; 0 when it
/// is not valid, and then `*skip` is the length of its maximal valid prefix (at least 1), which
/// stands for one U+FFFD (Unicode's "maximal subpart" practice).
std::size_t utf8_sequence(std::string_view text, std::size_t i, std::size_t* skip) noexcept;

/// Appends `text` escaped for the inside of a JSON string (quotes, backslashes and control
/// characters escaped); byte sequences that are not valid UTF-8 become U+FFFD.
void append_json_escaped(std::string& out, std::string_view text);

/// Appends `text` with byte sequences that are not valid UTF-8 replaced by U+FFFD.
void append_valid_utf8(std::string& out, std::string_view text);

/// Appends `value` as compact JSON; strings and keys as `append_json_escaped` writes them,
/// non-finite numbers as null.
void append_json(std::string& out, const boost::json::value& value);
/// Appends a JSON array of the numbers (non-finite ones as null).
void append_json(std::string& out, std::span<const double> numbers);

/// Appends the shortest text that reads back as `value` ("0.25", "3", "1e-07"); "nan", "inf"
/// and "-inf" for non-finite values.
void append_number(std::string& out, double value);

/// Writes a compact JSON document into a string, one element after the other, without building
/// a tree first. What JSON text cannot hold is written as it can: byte sequences that are not
/// UTF-8 as U+FFFD (`append_json_escaped`), non-finite numbers inside a `value` as null. The
/// caller balances objects and arrays and puts a `key` before each member of an object. Not
/// thread-safe.
class JsonWriter {
  public:
    explicit JsonWriter(std::string& out) noexcept : out_(out) {}

    JsonWriter& begin_object() { return open('{'); }
    JsonWriter& end_object() { return close('}'); }
    JsonWriter& begin_array() { return open('['); }
    JsonWriter& end_array() { return close(']'); }
    JsonWriter& key(std::string_view name);
    JsonWriter& string(std::string_view value);
    JsonWriter& integer(std::int64_t value);
    /// A finite number, in the shortest text that reads back exactly.
    JsonWriter& number(double value);
    JsonWriter& boolean(bool value);
    /// A value as boost::json serializes it (a double stays a double when read back).
    JsonWriter& value(const boost::json::value& value);

  private:
    void separate();
    JsonWriter& open(char bracket);
    JsonWriter& close(char bracket);

    std::string& out_;
    bool first_ = true;       ///< nothing written yet in the innermost object or array
    bool after_key_ = false;  ///< a key was written; its value comes next
};

}  // namespace herald::detail
