// The compiled form of a template: literal text and substitutions, rendered in one pass.
#pragma once

#include "template/variables.hpp"

#include <herald/template.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace herald::detail {

/// One step of rendering.
struct Piece {
    enum class Kind : std::uint8_t {
        literal,      ///< copy `CompiledTemplate::text[offset, offset + size)`
        json_string,  ///< the value, escaped for the inside of a JSON string
        json_value,   ///< a whole JSON string "${x}": the structured value, or a quoted string
        text,         ///< the value as text (text templates)
    };
    Kind kind = Kind::literal;
    Variable variable = Variable::event_type;
    /// literal: its text; metadata key and secret name: the key or name; all in `text`.
    std::uint32_t offset = 0;
    std::uint32_t size = 0;
};

struct CompiledTemplate {
    TriggerKind trigger = TriggerKind::create_artifact;
    TemplateFormat format = TemplateFormat::json;
    std::string text;  ///< literals, metadata keys and secret names
    std::vector<Piece> pieces;
    std::vector<std::string> secrets;  ///< sorted, unique
    bool access_token = false;
    std::size_t literal_size = 0;  ///< bytes of literal output, to reserve before rendering

    std::string_view slice(const Piece& piece) const noexcept {
        return std::string_view(text).substr(piece.offset, piece.size);
    }
};

}  // namespace herald::detail
