// The latest value of one metric in each of a project's most recent runs, for z-scores across
// runs: each update O(1) amortized, independent of how many runs it holds.
//
// clang-format off
//     RunPopulation p{30};
//     const auto others = p.update("run-7", 0.42);  // the other runs, then run-7's latest is 0.42
//     if (others.count >= 2 && others.stddev > 0) z = (0.42 - others.mean) / others.stddev;
// clang-format on
//
// "Most recent" is by the latest update: a run that logs the metric becomes the newest, and the
// least recently updated run leaves once more than `capacity` are held. Thread-safe: one
// population is shared by every run of an automation, which the evaluator keeps in different
// shards.
#pragma once

#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace herald::detail {

class RunPopulation {
  public:
    /// Mean and sample standard deviation of the other runs' latest values.
    struct Others {
        std::size_t count = 0;
        double mean = 0;
        double stddev = 0;  ///< 0 when count < 2 or the values are all equal
    };

    explicit RunPopulation(std::size_t capacity) : capacity_(capacity) {}

    /// The other runs' statistics, then makes `value` the latest of `run` (the newest run).
    Others update(std::string_view run, double value);
    /// Adds a run as the newest without measuring it: loading a saved population, oldest first.
    void restore(std::string_view run, double value);
    /// The other runs' latest values, least recently updated first.
    std::vector<double> values_except(std::string_view run) const;
    /// An independent population holding what this one holds now (for a dry run).
    std::shared_ptr<RunPopulation> copy() const;

  private:
    struct Entry {
        double value;
        std::list<std::string>::iterator position;
    };
    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept {
            return std::hash<std::string_view>{}(s);
        }
    };

    void put(std::string_view run, double value);
    void add(double value) noexcept;
    void remove(double value) noexcept;
    void recompute() noexcept;

    mutable std::mutex mutex_;
    std::size_t capacity_;
    std::list<std::string> order_;  ///< run ids, least recently updated first
    std::unordered_map<std::string, Entry, Hash, std::equal_to<>> entries_;
    // Sums of (v - shift_) and (v - shift_)^2: shifting by a held value keeps the variance
    // accurate when the values are large and close together. Recomputed from the entries once
    // per `capacity_` updates, which bounds the drift at an amortized O(1).
    double shift_ = 0;
    double sum_ = 0;
    double sum_squares_ = 0;
    std::size_t updates_ = 0;
};

}  // namespace herald::detail
