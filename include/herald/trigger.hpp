// herald/trigger.hpp — what an automation listens for.
//
// A `Trigger` holds one trigger kind's parameters; each kind is its own struct in
// `herald::trigger` with its documented defaults:
//
// clang-format off
//     herald::Trigger t = herald::trigger::AddArtifactAlias{.alias = herald::Pattern{"^prod.*$"}};
//     herald::Trigger m = herald::trigger::MetricThreshold{
//         .metric = "loss", .comparison = herald::Comparison::less, .threshold = 0.25};
// clang-format on
//
// Which scopes a kind allows is checked when the automation is created (see `allowed_in`).
#pragma once

#include <herald/event.hpp>
#include <herald/pattern.hpp>
#include <herald/scope.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace herald {

/// The trigger kinds; `to_string` gives the `${event_type}` value ("CREATE_ARTIFACT", ...).
enum class TriggerKind {
    create_artifact,
    link_artifact,
    unlink_artifact,
    add_artifact_alias,
    add_artifact_tag,
    remove_artifact_tag,
    run_metric_threshold,
    run_metric_change,
    run_metric_zscore,
    run_state,
};
inline constexpr std::size_t trigger_kind_count = 10;

/// Narrows run triggers to one user's runs and/or runs whose display name matches.
struct RunFilter {
    std::optional<std::string> user;
    std::optional<Pattern> name;

    bool matches(const Run& run) const noexcept;
    friend bool operator==(const RunFilter&, const RunFilter&) = default;
};

enum class Aggregate { average, min, max };
enum class Comparison { greater, greater_equal, less, less_equal, equal, not_equal };
enum class ChangeMode { relative, absolute };
enum class ChangeDirection { increase, decrease, either };
enum class ZScoreDirection { above, below, either };
/// What a z-score trigger measures the latest value against: the window of the run's own values
/// before it, or the same metric's latest values in the project's most recent other runs.
enum class ZScoreMode { within_run, across_runs };

/// Where a metric trigger stands for one run, as Prometheus and Grafana alerts do:
/// - `normal`: the condition does not hold;
/// - `pending`: it holds, but not yet for the pending period;
/// - `firing`: it held for the pending period and still holds;
/// - `recovering`: it no longer holds, but the value has not crossed the recovery threshold.
enum class ConditionState { normal, pending, firing, recovering };

/// A metric trigger's pending period and hysteresis. The defaults fire on the first
/// evaluation at which the condition holds and count it cleared as soon as it does not, with no
/// resolved firing: the plain trigger.
struct Hysteresis {
    /// How many consecutive evaluations (accepted values) the condition must hold before the
    /// automation fires; 1 fires on the first.
    std::size_t pending_evaluations = 1;
    /// How long the condition must have held, by the engine's clock, before it fires; checked
    /// at each evaluation.
    std::chrono::seconds pending_for{0};
    /// The bound the trigger's statistic must cross back before the automation can fire again
    /// (the threshold of a threshold or z-score trigger, the amount of a change trigger): a
    /// value between it and the threshold keeps the state `recovering`. With it, an automation
    /// fires once per episode (from leaving `normal` to returning to it); without it, it fires
    /// again while the condition keeps holding each time the cooldown has passed.
    std::optional<double> recovery;
    /// Also fire when an episode that fired returns to `normal` (`metric_state` "RESOLVED").
    bool notify_resolved = false;

    friend bool operator==(const Hysteresis&, const Hysteresis&) = default;
};
/// The longest pending streak an automation may ask for.
inline constexpr std::size_t max_pending_evaluations = 1'000'000;

/// How often a run trigger may fire for one run.
inline constexpr std::chrono::seconds default_cooldown = std::chrono::hours{24};
/// The largest window a run metric trigger may ask for: it bounds the memory each tracked
/// (automation, run) takes.
inline constexpr std::size_t max_metric_window = 10'000;

namespace trigger {

/// A new version is added to a collection. Scopes: project, collection.
struct CreateArtifact {
    std::optional<Pattern> collection;         ///< collection name filter
    std::optional<std::string> artifact_type;  ///< exact artifact type filter
    friend bool operator==(const CreateArtifact&, const CreateArtifact&) = default;
};
/// A version is linked to a registry collection. Scopes: registry, collection, entity.
struct LinkArtifact {
    std::optional<Pattern> alias;       ///< fires only when one of the version's aliases matches
    std::optional<Pattern> tag;         ///< fires only when one of the version's tags matches
    std::optional<Pattern> collection;  ///< the registry collection's name
    friend bool operator==(const LinkArtifact&, const LinkArtifact&) = default;
};
/// A version is unlinked. Scopes: registry, collection, entity.
struct UnlinkArtifact {
    std::optional<Pattern> collection;  ///< the registry collection's name
    friend bool operator==(const UnlinkArtifact&, const UnlinkArtifact&) = default;
};
/// An alias is added to a version. Scopes: project, registry, collection, entity.
struct AddArtifactAlias {
    Pattern alias;
    std::optional<Pattern> collection;  ///< collection name filter
    friend bool operator==(const AddArtifactAlias&, const AddArtifactAlias&) = default;
};
/// A tag is added. Scopes: project, registry, collection.
struct AddArtifactTag {
    std::optional<Pattern> tag;
    std::optional<Pattern> collection;  ///< collection name filter
    friend bool operator==(const AddArtifactTag&, const AddArtifactTag&) = default;
};
/// A tag is removed. Scopes: project, registry, collection.
struct RemoveArtifactTag {
    std::optional<Pattern> tag;
    std::optional<Pattern> collection;  ///< collection name filter
    friend bool operator==(const RemoveArtifactTag&, const RemoveArtifactTag&) = default;
};
/// aggregate(last `window` values of `metric`) <comparison> threshold. Scope: project.
struct MetricThreshold {
    std::string metric;
    std::size_t window = 5;
    Aggregate aggregate = Aggregate::average;
    Comparison comparison = Comparison::greater;
    double threshold = 0;
    RunFilter runs;
    std::chrono::seconds cooldown = default_cooldown;
    Hysteresis hysteresis;
    friend bool operator==(const MetricThreshold&, const MetricThreshold&) = default;
};
/// avg(current window) versus avg(the disjoint prior window before it). Scope: project.
struct MetricChange {
    std::string metric;
    std::size_t current_window = 10;
    std::size_t prior_window = 50;
    ChangeMode mode = ChangeMode::relative;
    ChangeDirection direction = ChangeDirection::either;
    double amount = 0;  ///< > 0; a fraction for relative changes (0.25 = 25 %)
    RunFilter runs;
    std::chrono::seconds cooldown = default_cooldown;
    Hysteresis hysteresis;
    friend bool operator==(const MetricChange&, const MetricChange&) = default;
};
/// z = (latest - mean) / stddev of the window before it (within_run), or of the latest values
/// of the metric in the `recent_runs` other runs that most recently logged it (across_runs).
/// Scope: project.
struct MetricZScore {
    std::string metric;
    std::size_t window = 30;  ///< within_run
    ZScoreMode mode = ZScoreMode::within_run;
    std::size_t recent_runs = 30;  ///< across_runs
    ZScoreDirection direction = ZScoreDirection::either;
    double threshold = 3.0;
    RunFilter runs;
    std::chrono::seconds cooldown = default_cooldown;
    Hysteresis hysteresis;
    friend bool operator==(const MetricZScore&, const MetricZScore&) = default;
};
/// A run enters one of `states` (Running, Finished, Failed; Crashed counts as Failed; Killed
/// never fires). Scope: project.
struct RunStateChange {
    std::vector<RunState> states;
    RunFilter runs;
    std::chrono::seconds cooldown = default_cooldown;
    friend bool operator==(const RunStateChange&, const RunStateChange&) = default;
};

}  // namespace trigger

/// One trigger of any kind. Value type; thread-compatible; cheap to copy.
class Trigger {
  public:
    using Variant =
        std::variant<trigger::CreateArtifact, trigger::LinkArtifact, trigger::UnlinkArtifact,
                     trigger::AddArtifactAlias, trigger::AddArtifactTag, trigger::RemoveArtifactTag,
                     trigger::MetricThreshold, trigger::MetricChange, trigger::MetricZScore,
                     trigger::RunStateChange>;

    Trigger() = default;
    template <class T>
    requires std::is_constructible_v<Variant, T&&> Trigger(T&& spec)
        : spec_(std::forward<T>(spec)) {}

    TriggerKind kind() const noexcept { return static_cast<TriggerKind>(spec_.index()); }
    const Variant& spec() const noexcept { return spec_; }
    template <class T>
    const T* get_if() const noexcept {
        return std::get_if<T>(&spec_);
    }
    /// The run filter and cooldown of run triggers; nullptr / nullopt for artifact triggers.
    const RunFilter* run_filter() const noexcept;
    std::optional<std::chrono::seconds> cooldown() const noexcept;
    /// The pending period and hysteresis of metric triggers; nullptr for other triggers.
    const Hysteresis* hysteresis() const noexcept;

    friend bool operator==(const Trigger&, const Trigger&) = default;

  private:
    Variant spec_;
};

std::string_view to_string(TriggerKind kind) noexcept;
std::optional<TriggerKind> trigger_kind_from_string(std::string_view name) noexcept;
/// Whether a trigger kind may be used with a scope kind (the table in doc/triggers.md).
bool allowed_in(TriggerKind trigger, ScopeKind scope) noexcept;
/// The event kind a trigger kind listens to.
EventKind listens_to(TriggerKind kind) noexcept;

std::string_view to_string(ConditionState s) noexcept;  ///< "normal", "pending", ...
std::optional<ConditionState> condition_state_from_string(std::string_view name) noexcept;
std::string_view to_string(Aggregate a) noexcept;   ///< "avg", "min", "max"
std::string_view to_string(Comparison c) noexcept;  ///< ">", ">=", ...
bool compare(double lhs, Comparison c, double rhs) noexcept;

}  // namespace herald
