// herald/pattern.hpp — name filters that cannot hang the engine.
//
// A pattern is either an exact string (no regular-expression metacharacters) or an RE2 regular
// expression, which matches in time linear in the input whatever the pattern. A regular
// expression matches when it is found anywhere in the name (anchor it with ^...$ to match whole
// names):
//
// clang-format off
//     herald::Pattern exact{"production"};   // matches "production" only
//     herald::Pattern re{"^prod.*$"};        // matches "production", "prod-eu", ...
// clang-format on
//
// Construction throws herald::Error (errc::invalid_argument) when the expression does not compile.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace herald {

namespace detail {
struct CompiledRegex;
}

/// An immutable compiled pattern; cheap to copy; thread-safe to match from many threads.
class Pattern {
  public:
    explicit Pattern(std::string source);

    bool matches(std::string_view name) const noexcept;
    const std::string& source() const noexcept { return source_; }
    /// True when the source has no metacharacters and so means an exact match.
    bool is_exact() const noexcept { return regex_ == nullptr; }

    friend bool operator==(const Pattern& a, const Pattern& b) noexcept {
        return a.source_ == b.source_;
    }

  private:
    std::string source_;
    std::shared_ptr<const detail::CompiledRegex> regex_;
};

}  // namespace herald
