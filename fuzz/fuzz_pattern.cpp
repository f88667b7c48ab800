// Fuzzes name patterns: the first byte splits the rest into two pattern sources and a name.
// Invariants: a source is refused only with herald::Error; an exact pattern matches the name
// equal to it and nothing else; a regular expression matches exactly where RE2 compiled apart
// from herald's shared cache finds it — so two sources never share one cached program.
#include <herald/error.hpp>
#include <herald/pattern.hpp>

#include <re2/re2.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace {

std::optional<herald::Pattern> compile(std::string source) {
    try {
        return herald::Pattern{std::move(source)};
    } catch (const herald::Error&) {
        return std::nullopt;
    }
}

void check(const herald::Pattern& pattern, std::string_view name) {
    bool expected = false;
    if (pattern.is_exact()) {
        expected = name == pattern.source();
    } else {
        RE2::Options options;
        options.set_log_errors(false);
        const RE2 apart(pattern.source(), options);
        if (!apart.ok())
            __builtin_trap();  // herald accepted what RE2 refuses
        expected = RE2::PartialMatch(re2::StringPiece(name.data(), name.size()), apart);
    }
    if (pattern.matches(name) != expected)
        __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1)
        return 0;
    const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    const std::size_t first = std::min<std::size_t>(data[0] & 0x0f, rest.size());
    const std::size_t second = std::min<std::size_t>(data[0] >> 4, rest.size() - first);
    const auto a = compile(std::string(rest.substr(0, first)));
    const auto b = compile(std::string(rest.substr(first, second)));
    const std::string_view name = rest.substr(first + second);
    for (const auto& pattern : {a, b})
        if (pattern)
            check(*pattern, name);
    return 0;
}
