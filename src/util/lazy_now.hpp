// A clock reading taken at most once, and only when something asks for it.
#pragma once

#include <herald/clock.hpp>

#include <optional>

namespace herald::detail {

/// The time of one operation (a publish): every `get` returns the same reading, and an
/// operation that never needs the time never reads the clock. Not synchronised.
class LazyNow {
  public:
    explicit LazyNow(const Clock& clock) noexcept : clock_(clock) {}

    Timestamp get() {
        if (!now_)
            now_ = clock_.now();
        return *now_;
    }

  private:
    const Clock& clock_;
    std::optional<Timestamp> now_;
};

}  // namespace herald::detail
