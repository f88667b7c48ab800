#include "evaluate/metric_conditions.hpp"

#include <charconv>
#include <cmath>

namespace herald::detail {
namespace {

std::string chars_text(double value, std::optional<int> precision) {
    char buffer[64];
    const auto result = precision ? std::to_chars(buffer, buffer + sizeof buffer, value,
                                                  std::chars_format::general, *precision)
                                  : std::to_chars(buffer, buffer + sizeof buffer, value);
    return std::string(buffer, result.ptr);
}

std::string over_last(const std::string& metric, std::string_view aggregate, std::size_t count) {
    return std::string(aggregate) + "(" + metric + ") over last " + std::to_string(count);
}

bool change_holds(ChangeDirection direction, double change, double amount) noexcept {
    switch (direction) {
        case ChangeDirection::increase:
            return change >= amount;
        case ChangeDirection::decrease:
            return -change >= amount;
        case ChangeDirection::either:
            return std::abs(change) >= amount;
    }
    return false;
}

bool zscore_holds(ZScoreDirection direction, double z, double threshold) noexcept {
    switch (direction) {
        case ZScoreDirection::above:
            return z >= threshold;
        case ZScoreDirection::below:
            return -z >= threshold;
        case ZScoreDirection::either:
            return std::abs(z) >= threshold;
    }
    return false;
}

std::string resolved_prefix(bool resolved) {
    return resolved ? "resolved: " : "";
}

/// ">= 3" or "<= -3": the side of the threshold the z-score `z` is compared on.
std::string zscore_bound_text(ZScoreDirection direction, double z, double bound) {
    const bool below =
        direction == ZScoreDirection::below || (direction == ZScoreDirection::either && z < 0);
    return (below ? "<= -" : ">= ") + configured_text(bound);
}

/// "z(loss) = 3.2 >= 3 (latest 5, mean 1, stddev 1.3 over <over>)".
std::string zscore_text(const std::string& metric, std::optional<double> z,
                        const std::string& outcome, double latest, double mean, double stddev,
                        const std::string& over, bool resolved) {
    return resolved_prefix(resolved) + "z(" + metric +
           ") = " + (z ? computed_text(*z) : "undefined") + outcome + " (latest " +
           computed_text(latest) + ", mean " + computed_text(mean) + ", stddev " +
           computed_text(stddev) + " over " + over + ")";
}

}  // namespace

std::string computed_text(double value) {
    return chars_text(value, 6);
}

std::string configured_text(double value) {
    return chars_text(value, std::nullopt);
}

// --- threshold ---------------------------------------------------------------------------------

ThresholdCondition::ThresholdCondition(const trigger::MetricThreshold& spec)
    : spec_(&spec), ring_(spec.window) {
    if (spec.aggregate != Aggregate::average)
        extreme_.emplace(spec.aggregate == Aggregate::min ? MonotonicQueue::Kind::min
                                                          : MonotonicQueue::Kind::max,
                         spec.window);
}

bool ThresholdCondition::push(double value) noexcept {
    if (extreme_) {
        extreme_->push(value);
        ring_.push(value);
    } else {
        if (ring_.full())
            sum_ -= ring_.front();
        sum_ += value;
        if (ring_.push(value))
            sum_ = sum_of(ring_, 0, ring_.size());
    }
    return holds_at(spec_->threshold);
}

bool ThresholdCondition::holds_at(double bound) const noexcept {
    return compare(aggregate(), spec_->comparison, bound);
}

double ThresholdCondition::aggregate() const noexcept {
    return extreme_ ? extreme_->value() : sum_ / static_cast<double>(ring_.size());
}

MetricObservation ThresholdCondition::observation(std::string condition, bool resolved) const {
    return {
        .metric_name = spec_->metric,
        .metric_value = ring_.back(0),
        .metric_values = ring_.to_vector(),
        .metric_condition = resolved_prefix(resolved) +
                            over_last(spec_->metric, to_string(spec_->aggregate), ring_.size()) +
                            " = " + computed_text(aggregate()) + std::move(condition),
        .resolved = resolved,
    };
}

MetricObservation ThresholdCondition::observe() const {
    return observation(
        " " + std::string(to_string(spec_->comparison)) + " " + configured_text(spec_->threshold),
        false);
}

MetricObservation ThresholdCondition::observe_resolved(double bound) const {
    return observation(
        ", no longer " + std::string(to_string(spec_->comparison)) + " " + configured_text(bound),
        true);
}

Unmet ThresholdCondition::unmet() const {
    return {.reason = observation(", not " + std::string(to_string(spec_->comparison)) + " " +
                                      configured_text(spec_->threshold),
                                  false)
                          .metric_condition};
}

std::size_t ThresholdCondition::heap_bytes() const noexcept {
    return ring_.heap_bytes() + (extreme_ ? extreme_->heap_bytes() : 0);
}

// --- change ------------------------------------------------------------------------------------

ChangeCondition::ChangeCondition(const trigger::MetricChange& spec)
    : spec_(&spec), ring_(spec.current_window + spec.prior_window) {}

bool ChangeCondition::push(double value) noexcept {
    // The value `current_window` pushes old moves from the current window to the prior one.
    if (ring_.size() >= spec_->current_window) {
        const double moving = ring_.back(spec_->current_window - 1);
        current_sum_ -= moving;
        prior_sum_ += moving;
    }
    if (ring_.full())
        prior_sum_ -= ring_.front();
    current_sum_ += value;
    if (ring_.push(value))
        refresh_sums();
    const std::optional<double> c = change();
    return c && change_holds(spec_->direction, *c, spec_->amount);
}

void ChangeCondition::refresh_sums() noexcept {
    current_sum_ = sum_of(ring_, 0, spec_->current_window);
    prior_sum_ = sum_of(ring_, spec_->current_window, prior_size());
}

double ChangeCondition::current_average() const noexcept {
    return current_sum_ / static_cast<double>(spec_->current_window);
}

double ChangeCondition::prior_average() const noexcept {
    return prior_sum_ / static_cast<double>(prior_size());
}

std::optional<double> ChangeCondition::change() const noexcept {
    if (ring_.size() <= spec_->current_window)
        return std::nullopt;
    const double prior = prior_average();
    const double difference = current_average() - prior;
    if (spec_->mode == ChangeMode::absolute)
        return difference;
    if (prior == 0)
        return std::nullopt;
    return difference / std::abs(prior);
}

bool ChangeCondition::holds_at(double bound) const noexcept {
    const std::optional<double> c = change();
    return c && change_holds(spec_->direction, *c, bound);
}

std::string ChangeCondition::amount_text(double amount) const {
    return spec_->mode == ChangeMode::relative ? configured_text(amount * 100) + "%"
                                               : configured_text(amount);
}

MetricObservation ChangeCondition::observation(std::string outcome, bool resolved) const {
    const std::optional<double> c = change();
    std::string by = "unchanged";
    if (c)
        by = std::string(*c >= 0 ? "increased" : "decreased") + " by " +
             (spec_->mode == ChangeMode::relative ? computed_text(std::abs(*c) * 100) + "%"
                                                  : computed_text(std::abs(*c)));
    return {
        .metric_name = spec_->metric,
        .metric_value = ring_.back(0),
        .metric_values = ring_.to_vector(),
        .metric_condition =
            resolved_prefix(resolved) + over_last(spec_->metric, "avg", spec_->current_window) +
            " = " + computed_text(current_average()) + ", over the " +
            std::to_string(prior_size()) + " before = " + computed_text(prior_average()) + ": " +
            by + std::move(outcome),
        .resolved = resolved,
    };
}

MetricObservation ChangeCondition::observe() const {
    return observation(" >= " + amount_text(spec_->amount), false);
}

MetricObservation ChangeCondition::observe_resolved(double bound) const {
    return observation(", no longer >= " + amount_text(bound), true);
}

Unmet ChangeCondition::unmet() const {
    if (ring_.size() <= spec_->current_window)
        return {.window_not_full = true,
                .reason = "avg(" + spec_->metric + ") needs " +
                          std::to_string(spec_->current_window) +
                          " values in its current window and one before them; it has " +
                          std::to_string(ring_.size())};
    if (!change())
        return {.reason = over_last(spec_->metric, "avg", spec_->current_window) + " = " +
                          computed_text(current_average()) + ", over the " +
                          std::to_string(prior_size()) +
                          " before = 0: a relative change from 0 is undefined"};
    return {.reason =
                observation(", not >= " + amount_text(spec_->amount), false).metric_condition};
}

// --- z-score -----------------------------------------------------------------------------------

ZScoreCondition::ZScoreCondition(const trigger::MetricZScore& spec)
    : spec_(&spec), ring_(spec.window) {}

bool ZScoreCondition::push(double value) noexcept {
    latest_ = value;
    prior_count_ = ring_.size();
    evicted_ = ring_.full() ? ring_.front() : 0;
    mean_ = moments_.mean();
    stddev_ = moments_.stddev(prior_count_);
    defined_ = prior_count_ >= 2 && stddev_ > 0;
    z_ = defined_ ? (value - mean_) / stddev_ : 0;
    moments_.update(ring_, value);
    if (ring_.push(value))
        moments_.recompute(ring_);
    return holds_at(spec_->threshold);
}

bool ZScoreCondition::holds_at(double bound) const noexcept {
    return defined_ && zscore_holds(spec_->direction, z_, bound);
}

std::string ZScoreCondition::bound_text(double bound) const {
    return zscore_bound_text(spec_->direction, z_, bound);
}

MetricObservation ZScoreCondition::observation(std::string outcome, bool resolved) const {
    std::vector<double> values = ring_.to_vector();
    // The ring already holds the latest value; show the window it was compared against.
    values.erase(values.end() - 1);
    if (prior_count_ == ring_.capacity())
        values.insert(values.begin(), evicted_);
    values.push_back(latest_);
    return {
        .metric_name = spec_->metric,
        .metric_value = latest_,
        .metric_values = std::move(values),
        .metric_condition = zscore_text(
            spec_->metric, defined_ ? std::optional(z_) : std::nullopt, outcome, latest_, mean_,
            stddev_, "the " + std::to_string(prior_count_) + " before", resolved),
        .resolved = resolved,
    };
}

MetricObservation ZScoreCondition::observe() const {
    return observation(" " + bound_text(spec_->threshold), false);
}

MetricObservation ZScoreCondition::observe_resolved(double bound) const {
    return observation(", no longer " + bound_text(bound), true);
}

Unmet ZScoreCondition::unmet() const {
    if (prior_count_ < 2)
        return {.window_not_full = true,
                .reason = "z(" + spec_->metric +
                          ") needs at least 2 values before the latest; it has " +
                          std::to_string(prior_count_)};
    if (!defined_)
        return {.reason = "z(" + spec_->metric + ") is undefined: the " +
                          std::to_string(prior_count_) + " values before the latest are all equal"};
    return {.reason = observation(", not " + bound_text(spec_->threshold), false).metric_condition};
}

// --- z-score across runs ---------------------------------------------------------------------

CrossRunZScoreCondition::CrossRunZScoreCondition(const trigger::MetricZScore& spec,
                                                 std::shared_ptr<RunPopulation> population,
                                                 std::string run_id)
    : spec_(&spec), population_(std::move(population)), run_id_(std::move(run_id)) {}

bool CrossRunZScoreCondition::push(double value) {
    latest_ = value;
    others_ = population_->update(run_id_, value);
    defined_ = others_.count >= 2 && others_.stddev > 0;
    z_ = defined_ ? (value - others_.mean) / others_.stddev : 0;
    return holds_at(spec_->threshold);
}

bool CrossRunZScoreCondition::holds_at(double bound) const noexcept {
    return defined_ && zscore_holds(spec_->direction, z_, bound);
}

MetricObservation CrossRunZScoreCondition::observation(std::string outcome, bool resolved) const {
    // The other runs' latest values now: those compared with, unless another run logged since.
    std::vector<double> values = population_->values_except(run_id_);
    values.push_back(latest_);
    return {
        .metric_name = spec_->metric,
        .metric_value = latest_,
        .metric_values = std::move(values),
        .metric_condition =
            zscore_text(spec_->metric, defined_ ? std::optional(z_) : std::nullopt, outcome,
                        latest_, others_.mean, others_.stddev,
                        "the latest of " + std::to_string(others_.count) + " other runs", resolved),
        .resolved = resolved,
    };
}

MetricObservation CrossRunZScoreCondition::observe() const {
    return observation(" " + zscore_bound_text(spec_->direction, z_, spec_->threshold), false);
}

MetricObservation CrossRunZScoreCondition::observe_resolved(double bound) const {
    return observation(", no longer " + zscore_bound_text(spec_->direction, z_, bound), true);
}

Unmet CrossRunZScoreCondition::unmet() const {
    if (others_.count < 2)
        return {.window_not_full = true,
                .reason = "z(" + spec_->metric +
                          ") needs the latest values of at least 2 other runs; it has " +
                          std::to_string(others_.count)};
    if (!defined_)
        return {.reason = "z(" + spec_->metric + ") is undefined: the latest values of the " +
                          std::to_string(others_.count) + " other runs are all equal"};
    return {
        .reason =
            observation(", not " + zscore_bound_text(spec_->direction, z_, spec_->threshold), false)
                .metric_condition};
}

// --- any ---------------------------------------------------------------------------------------

const std::string& watched_metric(const MetricCondition& condition) noexcept {
    return std::visit([](const auto& c) -> const std::string& { return c.metric(); }, condition);
}

Unmet unmet(const MetricCondition& condition) {
    return std::visit([](const auto& c) { return c.unmet(); }, condition);
}

std::optional<MetricCondition> make_condition(const Trigger& trigger,
                                              std::shared_ptr<RunPopulation> population,
                                              std::string_view run_id) {
    if (const auto* t = trigger.get_if<trigger::MetricThreshold>())
        return MetricCondition{std::in_place_type<ThresholdCondition>, *t};
    if (const auto* c = trigger.get_if<trigger::MetricChange>())
        return MetricCondition{std::in_place_type<ChangeCondition>, *c};
    if (const auto* z = trigger.get_if<trigger::MetricZScore>()) {
        if (z->mode == ZScoreMode::across_runs)
            return MetricCondition{std::in_place_type<CrossRunZScoreCondition>, *z,
                                   std::move(population), std::string(run_id)};
        return MetricCondition{std::in_place_type<ZScoreCondition>, *z};
    }
    return std::nullopt;
}

}  // namespace herald::detail
