// Fuzzes reading HTTP responses (src/delivery/response_reader.hpp) as a receiver may send them
// and a connection cut them. The first bytes choose the bounds, whether the connection ends
// after the input, and the sizes of the pieces the rest arrives in; the rest is the response.
// It is read whole and in those pieces (one byte each when the sizes are 0): both read the
// same, and every step keeps the reader's rules (tests/support/piecewise_read.hpp: no body beyond
// its cap, done and failed are final, a done response is a final one, ...).
#include "delivery/response_reader.hpp"
#include "support/piecewise_read.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace {

using herald::detail::ResponseLimits;
using herald::test::read_in_pieces;

constexpr std::size_t piece_count = 8;
constexpr std::size_t control_size = 3 + piece_count;

// Bounds from none to 4 KiB, small ones the most often: inputs are short.
std::size_t bound_from(std::uint8_t byte) {
    return byte < 128 ? byte : std::size_t{byte - 128u} * 32;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < control_size)
        return 0;
    const ResponseLimits limits{.max_header = bound_from(data[0]), .max_body = bound_from(data[1])};
    const bool closed = (data[2] & 1) != 0;
    std::vector<std::size_t> pieces;
    for (std::size_t i = 0; i < piece_count; ++i)
        pieces.push_back(std::size_t{data[3 + i]} + 1);  // 1 to 256
    const std::string_view bytes(reinterpret_cast<const char*>(data) + control_size,
                                 size - control_size);

    const auto whole = read_in_pieces(bytes, {bytes.size() + 1}, closed, limits);
    if (!whole.lawful || read_in_pieces(bytes, pieces, closed, limits) != whole)
        __builtin_trap();
    return 0;
}
