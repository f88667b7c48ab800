#include "util/ids.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <random>

namespace herald::detail {
namespace {

/// Writes the `digits` low hex digits of `value` at `out`, most significant first.
char* put_hex(char* out, std::uint64_t value, int digits) {
    constexpr std::string_view hex = "0123456789abcdef";
    for (int i = digits - 1; i >= 0; --i)
        *out++ = hex[(value >> (4 * i)) & 0xf];
    return out;
}

/// SplitMix64 (Steele, Lea, Flood 2014): a 64-bit state, every output well mixed, cheap to seed
/// (a thread's first id costs no more than the next). Seeded per thread from the system's
/// entropy.
class SplitMix64 {
  public:
    SplitMix64() {
        std::random_device entropy;
        state_ = (std::uint64_t{entropy()} << 32) ^ entropy();
    }
    std::uint64_t operator()() noexcept {
        std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }

  private:
    std::uint64_t state_;
};

}  // namespace

std::string new_uuid() {
    thread_local SplitMix64 rng;
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
    const std::uint64_t random = rng();
    const std::uint64_t hi = (static_cast<std::uint64_t>(ms) << 16) | 0x7000 |  // version 7
                             (random & 0x0fff);
    const std::uint64_t lo = (rng() & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant
    std::array<char, 36> text;
    char* out = put_hex(text.data(), hi >> 32, 8);
    *out++ = '-';
    out = put_hex(out, hi >> 16, 4);
    *out++ = '-';
    out = put_hex(out, hi, 4);
    *out++ = '-';
    out = put_hex(out, lo >> 48, 4);
    *out++ = '-';
    put_hex(out, lo, 12);
    return std::string(text.data(), text.size());
}

}  // namespace herald::detail
