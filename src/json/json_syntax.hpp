// Saying where in JSON text something is, and why text that is not JSON is not: the parser
// (Boost.JSON) reports an offset and often only "syntax error"; this names what is wrong there
// ("a high surrogate \ud800 without its low surrogate") and the field path that leads to it.
#pragma once

#include <herald/error.hpp>

#include <boost/system/error_code.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace herald::detail {

/// "line 2, column 6 (offset 14)": where byte `offset` of `text` is (lines and columns count
/// from 1, columns in bytes).
std::string text_place(std::string_view text, std::size_t offset);

/// The error for `text`, which the JSON parser refused with `ec` at byte `offset`:
/// errc::invalid_json, the field is the path of the value the error is in ("version.collection",
/// "metrics[1]"; empty at the top level), the reason "invalid JSON at <place>: <what is wrong>".
/// The place is a column alone for text of one line.
Error json_syntax_error(std::string_view text, std::size_t offset, boost::system::error_code ec);

}  // namespace herald::detail
