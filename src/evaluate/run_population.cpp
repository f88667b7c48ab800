#include "evaluate/run_population.hpp"

#include <algorithm>
#include <cmath>

namespace herald::detail {

RunPopulation::Others RunPopulation::update(std::string_view run, double value) {
    std::lock_guard lock(mutex_);
    Others others;
    double sum = sum_;
    double squares = sum_squares_;
    std::size_t n = entries_.size();
    if (const auto it = entries_.find(run); it != entries_.end()) {
        const double own = it->second.value - shift_;
        sum -= own;
        squares -= own * own;
        --n;
    }
    others.count = n;
    if (n > 0) {
        others.mean = shift_ + sum / static_cast<double>(n);
        const double variance = n > 1
                                    ? std::max(0.0, (squares - sum * sum / static_cast<double>(n)) /
                                                        static_cast<double>(n - 1))
                                    : 0;
        // Rounding in the running sums must not fake a tiny spread between equal values.
        const bool all_equal = variance <= 1e-24 * (1 + others.mean * others.mean);
        others.stddev = all_equal ? 0 : std::sqrt(variance);
    }
    put(run, value);
    if (++updates_ >= capacity_)
        recompute();
    return others;
}

void RunPopulation::restore(std::string_view run, double value) {
    std::lock_guard lock(mutex_);
    put(run, value);
}

std::vector<double> RunPopulation::values_except(std::string_view run) const {
    std::lock_guard lock(mutex_);
    std::vector<double> out;
    out.reserve(order_.size());
    for (const std::string& id : order_)
        if (id != run)
            out.push_back(entries_.find(id)->second.value);
    return out;
}

std::shared_ptr<RunPopulation> RunPopulation::copy() const {
    std::lock_guard lock(mutex_);
    auto c = std::make_shared<RunPopulation>(capacity_);
    for (const std::string& id : order_) {
        c->order_.push_back(id);
        c->entries_.emplace(c->order_.back(),
                            Entry{entries_.find(id)->second.value, std::prev(c->order_.end())});
    }
    c->shift_ = shift_;
    c->sum_ = sum_;
    c->sum_squares_ = sum_squares_;
    c->updates_ = updates_;
    return c;
}

void RunPopulation::put(std::string_view run, double value) {
    if (entries_.empty())
        shift_ = value;
    if (auto it = entries_.find(run); it != entries_.end()) {
        remove(it->second.value);
        it->second.value = value;
        order_.splice(order_.end(), order_, it->second.position);
    } else {
        if (entries_.size() == capacity_) {
            const auto oldest = entries_.find(order_.front());
            remove(oldest->second.value);
            entries_.erase(oldest);
            order_.pop_front();
        }
        order_.emplace_back(run);
        entries_.emplace(order_.back(), Entry{value, std::prev(order_.end())});
    }
    add(value);
}

void RunPopulation::add(double value) noexcept {
    const double d = value - shift_;
    sum_ += d;
    sum_squares_ += d * d;
}

void RunPopulation::remove(double value) noexcept {
    const double d = value - shift_;
    sum_ -= d;
    sum_squares_ -= d * d;
}

void RunPopulation::recompute() noexcept {
    updates_ = 0;
    sum_ = 0;
    sum_squares_ = 0;
    if (entries_.empty())
        return;
    shift_ = entries_.find(order_.back())->second.value;
    for (const auto& [id, entry] : entries_)
        add(entry.value);
}

}  // namespace herald::detail
