// Sliding windows over a metric's most recent values, each step O(1) amortized.
//
// `ValueRing` holds the last N values; `MonotonicQueue` gives the window's min or max;
// `RunningMoments` the mean and variance. Sums are recomputed from the ring once per N pushes
// (when the ring wraps), which bounds floating-point drift to N steps at an amortized cost of
// one addition per push.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace herald::detail {

/// The most recent `capacity` values, oldest evicted first. Not synchronised.
class ValueRing {
  public:
    explicit ValueRing(std::size_t capacity) : values_(capacity) {}

    std::size_t capacity() const noexcept { return values_.size(); }
    std::size_t size() const noexcept { return size_; }
    bool full() const noexcept { return size_ == values_.size(); }
    bool empty() const noexcept { return size_ == 0; }

    /// Adds `value`, evicting the oldest when full. True when the write position wrapped to
    /// the start, the moment callers refresh their sums.
    bool push(double value) noexcept {
        values_[next_] = value;
        if (size_ < values_.size())
            ++size_;
        if (++next_ == values_.size()) {
            next_ = 0;
            return true;
        }
        return false;
    }
    /// The value `age` pushes ago: 0 is the latest. Requires age < size().
    double back(std::size_t age) const noexcept {
        const std::size_t pos = next_ > age ? next_ - 1 - age : next_ + values_.size() - 1 - age;
        return values_[pos];
    }
    /// The oldest value held. Requires !empty().
    double front() const noexcept { return back(size_ - 1); }

    /// Calls `f(value)` for the `count` values before the latest `skip`, oldest first.
    template <class F>
    void for_each(std::size_t skip, std::size_t count, F&& f) const {
        for (std::size_t age = skip + count; age > skip; --age)
            f(back(age - 1));
    }
    /// The values held, oldest first.
    std::vector<double> to_vector() const {
        std::vector<double> out;
        out.reserve(size_);
        for_each(0, size_, [&](double v) { out.push_back(v); });
        return out;
    }
    std::size_t heap_bytes() const noexcept { return values_.capacity() * sizeof(double); }

  private:
    std::vector<double> values_;
    std::size_t next_ = 0;  ///< where the next value goes
    std::size_t size_ = 0;
};

/// The sum of the values `skip..skip+count` pushes old in a ring, recomputed on demand.
inline double sum_of(const ValueRing& ring, std::size_t skip, std::size_t count) noexcept {
    double sum = 0;
    ring.for_each(skip, count, [&](double v) { sum += v; });
    return sum;
}

/// The minimum (or maximum) of the last `window` values: a deque of candidates whose values
/// are increasing (decreasing) from front to back, in a fixed ring of `window` slots.
class MonotonicQueue {
  public:
    enum class Kind { min, max };

    MonotonicQueue(Kind kind, std::size_t window) : slots_(window), kind_(kind) {}

    void push(double value) noexcept {
        while (size_ > 0 && dominated(slot(size_ - 1).value, value))
            --size_;
        if (size_ > 0 && slot(0).seq + slots_.size() <= seq_)
            pop_front();
        slot(size_++) = {value, seq_++};
    }
    /// The window's min (max). Requires at least one push.
    double value() const noexcept { return slot(0).value; }
    std::size_t heap_bytes() const noexcept { return slots_.capacity() * sizeof(Slot); }

  private:
    struct Slot {
        double value;
        std::uint64_t seq;
    };
    /// A held candidate that can never be the answer again once `incoming` arrives.
    bool dominated(double held, double incoming) const noexcept {
        return kind_ == Kind::min ? held >= incoming : held <= incoming;
    }
    Slot& slot(std::size_t i) noexcept { return slots_[wrap(head_ + i)]; }
    const Slot& slot(std::size_t i) const noexcept { return slots_[wrap(head_ + i)]; }
    std::size_t wrap(std::size_t i) const noexcept {
        return i >= slots_.size() ? i - slots_.size() : i;
    }
    void pop_front() noexcept {
        head_ = wrap(head_ + 1);
        --size_;
    }

    std::vector<Slot> slots_;
    std::size_t head_ = 0;
    std::size_t size_ = 0;
    std::uint64_t seq_ = 0;  ///< pushes so far; the window is the last `slots_.size()` of them
    Kind kind_;
};

/// Mean and sample variance of a window kept in a `ValueRing`, updated per push with Welford's
/// sliding-window recurrences and recomputed (two passes) whenever the ring wraps.
class RunningMoments {
  public:
    /// Call before `ring.push(value)`: `value` enters, and `ring.front()` leaves when full.
    void update(const ValueRing& ring, double value) noexcept {
        if (!ring.full()) {
            const double delta = value - mean_;
            mean_ += delta / static_cast<double>(ring.size() + 1);
            m2_ += delta * (value - mean_);
        } else {
            const double old = ring.front();
            const double old_mean = mean_;
            mean_ += (value - old) / static_cast<double>(ring.size());
            m2_ += (value - old) * (value - mean_ + old - old_mean);
        }
        equal_tail_ = ring.size() > 0 && ring.back(0) == value ? equal_tail_ + 1 : 1;
    }
    /// Call after a push that wrapped the ring: forgets accumulated rounding.
    void recompute(const ValueRing& ring) noexcept {
        const double n = static_cast<double>(ring.size());
        mean_ = sum_of(ring, 0, ring.size()) / n;
        m2_ = 0;
        ring.for_each(0, ring.size(), [&](double v) { m2_ += (v - mean_) * (v - mean_); });
    }

    double mean() const noexcept { return mean_; }
    /// Sample standard deviation of the `n` values in the window; exactly 0 when they are all
    /// equal (rounding in the recurrences cannot fake a tiny spread).
    double stddev(std::size_t n) const noexcept {
        if (n < 2 || equal_tail_ >= n || m2_ <= 0)
            return 0;
        return std::sqrt(m2_ / static_cast<double>(n - 1));
    }

  private:
    double mean_ = 0;
    double m2_ = 0;               ///< sum of squared deviations from the mean
    std::size_t equal_tail_ = 0;  ///< how many of the latest values are equal to the latest
};

}  // namespace herald::detail
