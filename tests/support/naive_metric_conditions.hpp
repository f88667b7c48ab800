// A naive reference for the run metric conditions: recomputes each condition from the full
// history of accepted values, for property tests of the incremental evaluation. Test code only.
#pragma once

#include <herald/trigger.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numeric>
#include <vector>

namespace herald::test {

struct Naive {
    bool defined = false;  ///< whether the condition can be evaluated at all
    double measure = 0;    ///< the aggregate, change or z that was compared
    bool holds = false;
};

inline std::vector<double> last(const std::vector<double>& h, std::size_t n, std::size_t skip = 0) {
    const std::size_t end = h.size() - std::min(skip, h.size());
    const std::size_t begin = end - std::min(n, end);
    return {h.begin() + static_cast<std::ptrdiff_t>(begin),
            h.begin() + static_cast<std::ptrdiff_t>(end)};
}

inline double mean_of(const std::vector<double>& v) {
    return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

inline Naive naive_threshold(const trigger::MetricThreshold& s,
                             const std::vector<double>& history) {
    const std::vector<double> w = last(history, s.window);
    double a = mean_of(w);
    if (s.aggregate == Aggregate::min)
        a = *std::min_element(w.begin(), w.end());
    if (s.aggregate == Aggregate::max)
        a = *std::max_element(w.begin(), w.end());
    return {true, a, compare(a, s.comparison, s.threshold)};
}

inline Naive naive_change(const trigger::MetricChange& s, const std::vector<double>& history) {
    if (history.size() <= s.current_window)
        return {};
    const double cur = mean_of(last(history, s.current_window));
    const double prior = mean_of(last(history, s.prior_window, s.current_window));
    if (s.mode == ChangeMode::relative && prior == 0)
        return {};
    const double c = s.mode == ChangeMode::absolute ? cur - prior : (cur - prior) / std::abs(prior);
    const double signed_c = s.direction == ChangeDirection::decrease ? -c
                            : s.direction == ChangeDirection::either ? std::abs(c)
                                                                     : c;
    return {true, signed_c, signed_c >= s.amount};
}

inline Naive naive_zscore(const trigger::MetricZScore& s, const std::vector<double>& history) {
    const std::vector<double> prior = last(history, s.window, 1);
    if (prior.size() < 2)
        return {};
    const double m = mean_of(prior);
    double ss = 0;
    for (double v : prior)
        ss += (v - m) * (v - m);
    const double sd = std::sqrt(ss / static_cast<double>(prior.size() - 1));
    if (sd == 0)
        return {};
    const double z = (history.back() - m) / sd;
    const double signed_z = s.direction == ZScoreDirection::below    ? -z
                            : s.direction == ZScoreDirection::either ? std::abs(z)
                                                                     : z;
    return {true, signed_z, signed_z >= s.threshold};
}

/// Whether the naive answer is far enough from its boundary that rounding cannot flip it.
inline bool clear_of(double measure, double bound) {
    return std::abs(measure - bound) > 1e-9 * (1 + std::abs(bound));
}

}  // namespace herald::test
