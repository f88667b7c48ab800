// The run metric conditions as state machines over one run's values of one metric.
//
// Each condition is fed the run's finite values in order with `push`, which answers whether
// the condition holds after that value; `holds_at(bound)` whether it would with another
// threshold (amount) in place of the configured one, for the recovery bound; `observe` then
// describes what it saw, and `observe_resolved(bound)` that it cleared (only called when the
// automation actually fires, so the per-point path builds no strings); `unmet` why it does not
// hold, for a dry run. Every push is O(1)
// amortized, independent of the window sizes. Not synchronised; no clock, no storage.
//
// clang-format off
//     ThresholdCondition c{spec};          // spec: avg over 5 < 0.25
//     for (double v : values)
//         if (c.push(v)) fire(c.observe());
// clang-format on
#pragma once

#include "evaluate/run_population.hpp"
#include "evaluate/windows.hpp"

#include <herald/firing.hpp>
#include <herald/trigger.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace herald::detail {

/// Why a condition does not hold after its latest value (for a dry run).
struct Unmet {
    bool window_not_full = false;  ///< too few values for the statistic yet
    std::string reason;
};

/// RUN_METRIC_THRESHOLD: aggregate(last `window` values) <op> threshold, over the values present
/// while fewer exist. Keeps a reference to `spec`, which must outlive it.
class ThresholdCondition {
  public:
    explicit ThresholdCondition(const trigger::MetricThreshold& spec);

    bool push(double value) noexcept;
    bool holds_at(double bound) const noexcept;
    MetricObservation observe() const;
    MetricObservation observe_resolved(double bound) const;
    Unmet unmet() const;
    const std::string& metric() const noexcept { return spec_->metric; }
    /// How many of the latest values restore this state after a restart.
    std::size_t keep() const noexcept { return ring_.capacity(); }
    std::size_t heap_bytes() const noexcept;

  private:
    double aggregate() const noexcept;
    MetricObservation observation(std::string condition, bool resolved) const;

    const trigger::MetricThreshold* spec_;
    ValueRing ring_;
    double sum_ = 0;                         ///< of the ring, for the average
    std::optional<MonotonicQueue> extreme_;  ///< for min and max
};

/// RUN_METRIC_CHANGE: average of the latest `current_window` values against the average of the
/// up to `prior_window` values just before them. Needs a full current window and a non-empty
/// prior one; a relative change from a prior average of 0 never holds.
class ChangeCondition {
  public:
    explicit ChangeCondition(const trigger::MetricChange& spec);

    bool push(double value) noexcept;
    bool holds_at(double bound) const noexcept;
    MetricObservation observe() const;
    MetricObservation observe_resolved(double bound) const;
    Unmet unmet() const;
    const std::string& metric() const noexcept { return spec_->metric; }
    std::size_t keep() const noexcept { return ring_.capacity(); }
    std::size_t heap_bytes() const noexcept { return ring_.heap_bytes(); }

  private:
    std::size_t prior_size() const noexcept { return ring_.size() - spec_->current_window; }
    double current_average() const noexcept;
    double prior_average() const noexcept;
    /// (current - prior) / |prior| or current - prior; nullopt when not defined.
    std::optional<double> change() const noexcept;
    void refresh_sums() noexcept;
    std::string amount_text(double amount) const;
    MetricObservation observation(std::string outcome, bool resolved) const;

    const trigger::MetricChange* spec_;
    ValueRing ring_;  ///< prior window then current window
    double current_sum_ = 0;
    double prior_sum_ = 0;
};

/// RUN_METRIC_ZSCORE: z = (latest - mean) / sample stddev of the up to `window` values before
/// the latest. Needs at least 2 prior values and a stddev above 0.
class ZScoreCondition {
  public:
    explicit ZScoreCondition(const trigger::MetricZScore& spec);

    bool push(double value) noexcept;
    bool holds_at(double bound) const noexcept;
    MetricObservation observe() const;
    MetricObservation observe_resolved(double bound) const;
    Unmet unmet() const;
    const std::string& metric() const noexcept { return spec_->metric; }
    std::size_t keep() const noexcept { return ring_.capacity(); }
    std::size_t heap_bytes() const noexcept { return ring_.heap_bytes(); }

  private:
    std::string bound_text(double bound) const;
    MetricObservation observation(std::string outcome, bool resolved) const;

    const trigger::MetricZScore* spec_;
    ValueRing ring_;  ///< the values before the latest
    RunningMoments moments_;
    // What the latest push saw, for `observe`.
    double latest_ = 0;
    double mean_ = 0;
    double stddev_ = 0;
    double evicted_ = 0;  ///< the value that left the window when the latest entered
    std::size_t prior_count_ = 0;
    bool defined_ = false;  ///< whether z was defined (2 prior values, a stddev above 0)
    double z_ = 0;
};

/// RUN_METRIC_ZSCORE across runs: z = (latest - mean) / sample stddev of the latest values of
/// the metric in the other runs of `population` (the automation's most recent runs), which each
/// push then updates with this run's latest. Needs at least 2 other runs and a stddev above 0.
class CrossRunZScoreCondition {
  public:
    CrossRunZScoreCondition(const trigger::MetricZScore& spec,
                            std::shared_ptr<RunPopulation> population, std::string run_id);

    bool push(double value);
    /// Takes a saved latest value back after a restart (the population is loaded apart).
    void restore(double value) noexcept { latest_ = value; }
    /// Compares with `population` from now on: a dry run's copy of the shared one.
    void use_population(std::shared_ptr<RunPopulation> population) noexcept {
        population_ = std::move(population);
    }
    bool holds_at(double bound) const noexcept;
    MetricObservation observe() const;
    MetricObservation observe_resolved(double bound) const;
    Unmet unmet() const;
    const std::string& metric() const noexcept { return spec_->metric; }
    std::size_t keep() const noexcept { return 1; }
    /// How many runs the population keeps.
    std::size_t population_size() const noexcept { return spec_->recent_runs; }

  private:
    MetricObservation observation(std::string outcome, bool resolved) const;

    const trigger::MetricZScore* spec_;
    std::shared_ptr<RunPopulation> population_;
    std::string run_id_;
    double latest_ = 0;
    RunPopulation::Others others_;  ///< what the latest push was compared with
    bool defined_ = false;
    double z_ = 0;
};

/// One metric trigger's condition.
using MetricCondition =
    std::variant<ThresholdCondition, ChangeCondition, ZScoreCondition, CrossRunZScoreCondition>;

/// The condition for a metric trigger of `run_id`; nullopt for other triggers. A z-score
/// across runs compares with `population` (the automation's, shared by its runs).
std::optional<MetricCondition> make_condition(const Trigger& trigger,
                                              std::shared_ptr<RunPopulation> population = nullptr,
                                              std::string_view run_id = {});
/// The metric a metric trigger watches.
const std::string& watched_metric(const MetricCondition& condition) noexcept;
/// Why `condition` does not hold after its latest value.
Unmet unmet(const MetricCondition& condition);

/// Numbers in condition texts: 6 significant digits for computed values, the shortest exact
/// form for configured ones.
std::string computed_text(double value);
std::string configured_text(double value);

}  // namespace herald::detail
