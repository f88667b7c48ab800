// Fuzzes the JSON formats read from files (`herald automations apply`, `integrations apply`):
// the first byte picks the format (odd: automation, even: integration), the rest is the document.
// Invariants: reading never crashes and refuses bad input only with herald::Error; what was read
// writes back to text that reads again as the same automation or integration (export, then
// apply, changes nothing). Events have a target of their own, fuzz_event_json.
#include <herald/automation_json.hpp>
#include <herald/error.hpp>
#include <herald/integration_json.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace {

template <class Read>
void round_trip(std::string_view text, Read read) {
    decltype(read(text)) value;
    try {
        value = read(text);
    } catch (const herald::Error&) {
        return;
    }
    try {
        if (!(read(herald::to_json(value)) == value))
            __builtin_trap();  // what was written reads back as something else
    } catch (const herald::Error&) {
        __builtin_trap();  // what herald accepted is written as text it refuses
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0)
        return 0;
    const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    if (data[0] % 2 == 1)
        round_trip(text, [](std::string_view t) { return herald::automation_from_json(t); });
    else
        round_trip(text, [](std::string_view t) { return herald::integration_from_json(t); });
    return 0;
}
