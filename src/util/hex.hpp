// Hexadecimal digits, for the readers of hex-encoded keys and bytes.
#pragma once

namespace herald::detail {

/// The value of hex digit `c` (either case); -1 when it is not one.
constexpr int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

}  // namespace herald::detail
