#include "match/match.hpp"

#include <algorithm>
#include <optional>
#include <string>

namespace herald::detail {
namespace {

bool any_matches(const Pattern& pattern, const std::vector<std::string>& names) noexcept {
    return std::any_of(names.begin(), names.end(),
                       [&](const std::string& n) { return pattern.matches(n); });
}

bool optional_matches(const std::optional<Pattern>& pattern, std::string_view name) noexcept {
    return !pattern || pattern->matches(name);
}

/// Crashed counts as Failed; Killed never triggers.
bool state_chosen(const std::vector<RunState>& states, RunState state) noexcept {
    if (state == RunState::killed)
        return false;
    if (state == RunState::crashed)
        state = RunState::failed;
    return std::find(states.begin(), states.end(), state) != states.end();
}

bool logs_metric(const Event& event, const std::string& metric) noexcept {
    const auto& points = std::get<RunMetricsLogged>(event.body).metrics;
    return std::any_of(points.begin(), points.end(),
                       [&](const MetricPoint& p) { return p.name == metric; });
}

std::string quoted(std::string_view s) {
    std::string q;
    q.reserve(s.size() + 2);
    q += '\'';
    q += s;
    q += '\'';
    return q;
}

std::string pattern_note(const char* what, const std::optional<Pattern>& pattern) {
    if (!pattern)
        return {};
    return std::string(" (") + what + " matches " + quoted(pattern->source()) + ")";
}

std::string run_text(const Run& run) {
    return "run " + quoted(run.name.empty() ? run.id : run.name);
}

/// The filters' verdict: true when the event passes; otherwise `refuse(outcome, why)` is
/// returned, where `why()` makes the reason (called only by a caller that wants it).
template <class Refuse>
bool check_filters(const Trigger& trigger, const Event& event, Refuse&& refuse) {
    const auto runs_match = [&](const RunFilter& runs, const Run& run) {
        if (runs.matches(run))
            return true;
        return refuse(DryRunOutcome::filtered, [&] {
            return runs.user && run.user != *runs.user
                       ? "the run's user " + quoted(run.user) + " is not " + quoted(*runs.user)
                       : "the run's name " + quoted(run.name) + " does not match " +
                             quoted(runs.name->source());
        });
    };
    return std::visit(
        [&](const auto& spec) -> bool {
            using T = std::decay_t<decltype(spec)>;
            // Every artifact trigger may filter on the name of the version's collection.
            if constexpr (requires { spec.collection; })
                if (!optional_matches(spec.collection, event.artifact()->collection))
                    return refuse(DryRunOutcome::filtered, [&] {
                        return "collection " + quoted(event.artifact()->collection) +
                               " does not match " + quoted(spec.collection->source());
                    });
            if constexpr (std::is_same_v<T, trigger::CreateArtifact>) {
                const ArtifactVersion& v = std::get<ArtifactCreated>(event.body).version;
                if (spec.artifact_type && *spec.artifact_type != v.collection_type)
                    return refuse(DryRunOutcome::filtered, [&] {
                        return "artifact type " + quoted(v.collection_type) + " is not " +
                               quoted(*spec.artifact_type);
                    });
                return true;
            } else if constexpr (std::is_same_v<T, trigger::LinkArtifact>) {
                const ArtifactVersion& v = std::get<ArtifactLinked>(event.body).version;
                if (spec.alias && !any_matches(*spec.alias, v.aliases))
                    return refuse(DryRunOutcome::filtered, [&] {
                        return "no alias of the version matches " + quoted(spec.alias->source());
                    });
                if (spec.tag && !any_matches(*spec.tag, v.tags))
                    return refuse(DryRunOutcome::filtered, [&] {
                        return "no tag of the version matches " + quoted(spec.tag->source());
                    });
                return true;
            } else if constexpr (std::is_same_v<T, trigger::UnlinkArtifact>) {
                return true;
            } else if constexpr (std::is_same_v<T, trigger::AddArtifactAlias>) {
                const std::string& alias = std::get<AliasAdded>(event.body).alias;
                if (!spec.alias.matches(alias))
                    return refuse(DryRunOutcome::filtered, [&] {
                        return "alias " + quoted(alias) + " does not match " +
                               quoted(spec.alias.source());
                    });
                return true;
            } else if constexpr (std::is_same_v<T, trigger::AddArtifactTag> ||
                                 std::is_same_v<T, trigger::RemoveArtifactTag>) {
                const std::string& tag = std::is_same_v<T, trigger::AddArtifactTag>
                                             ? std::get<TagAdded>(event.body).tag
                                             : std::get<TagRemoved>(event.body).tag;
                if (!optional_matches(spec.tag, tag))
                    return refuse(DryRunOutcome::filtered, [&] {
                        return "tag " + quoted(tag) + " does not match " +
                               quoted(spec.tag->source());
                    });
                return true;
            } else if constexpr (std::is_same_v<T, trigger::RunStateChange>) {
                const auto& body = std::get<RunStateChanged>(event.body);
                if (!runs_match(spec.runs, body.run))
                    return false;
                if (!state_chosen(spec.states, body.state))
                    return refuse(DryRunOutcome::filtered, [&] {
                        return body.state == RunState::killed
                                   ? std::string("a run that is killed never fires")
                                   : "state " + std::string(to_string(body.state)) +
                                         " is not one the trigger chose";
                    });
                return true;
            } else {
                const auto& body = std::get<RunMetricsLogged>(event.body);
                if (!runs_match(spec.runs, body.run))
                    return false;
                if (!logs_metric(event, spec.metric))
                    return refuse(DryRunOutcome::no_value,
                                  [&] { return "the event does not log " + quoted(spec.metric); });
                return true;
            }
        },
        trigger.spec());
}

}  // namespace

bool filters_match(const Trigger& trigger, const Event& event) noexcept {
    return check_filters(trigger, event, [](DryRunOutcome, auto&&) { return false; });
}

std::optional<FilterMismatch> filter_mismatch(const Trigger& trigger, const Event& event) {
    std::optional<FilterMismatch> mismatch;
    check_filters(trigger, event, [&](DryRunOutcome outcome, auto&& why) {
        mismatch = FilterMismatch{outcome, why()};
        return false;
    });
    return mismatch;
}

std::string version_string(const Event& event, const ArtifactVersion& version) {
    return event.entity + '/' + event.project + '/' + version.collection + ":v" +
           std::to_string(version.index);
}

std::string describe_match(const Automation& automation, const Event& event) {
    return std::visit(
        [&](const auto& spec) -> std::string {
            using T = std::decay_t<decltype(spec)>;
            if constexpr (std::is_same_v<T, trigger::CreateArtifact>) {
                const auto& v = std::get<ArtifactCreated>(event.body).version;
                return "new version " + version_string(event, v) + " created" +
                       pattern_note("collection", spec.collection);
            } else if constexpr (std::is_same_v<T, trigger::LinkArtifact>) {
                const auto& b = std::get<ArtifactLinked>(event.body);
                return b.source.entity + '/' + b.source.project + '/' + b.source.collection + ":v" +
                       std::to_string(b.source.index) + " linked as " +
                       version_string(event, b.version) + pattern_note("alias", spec.alias) +
                       pattern_note("tag", spec.tag) + pattern_note("collection", spec.collection);
            } else if constexpr (std::is_same_v<T, trigger::UnlinkArtifact>) {
                return version_string(event, std::get<ArtifactUnlinked>(event.body).version) +
                       " unlinked" + pattern_note("collection", spec.collection);
            } else if constexpr (std::is_same_v<T, trigger::AddArtifactAlias>) {
                const auto& b = std::get<AliasAdded>(event.body);
                return "alias " + quoted(b.alias) + " added to " +
                       version_string(event, b.version) + pattern_note("alias", spec.alias) +
                       pattern_note("collection", spec.collection);
            } else if constexpr (std::is_same_v<T, trigger::AddArtifactTag>) {
                const auto& b = std::get<TagAdded>(event.body);
                return "tag " + quoted(b.tag) + " added to " + version_string(event, b.version) +
                       pattern_note("tag", spec.tag) + pattern_note("collection", spec.collection);
            } else if constexpr (std::is_same_v<T, trigger::RemoveArtifactTag>) {
                const auto& b = std::get<TagRemoved>(event.body);
                return "tag " + quoted(b.tag) + " removed from " +
                       version_string(event, b.version) + pattern_note("tag", spec.tag) +
                       pattern_note("collection", spec.collection);
            } else if constexpr (std::is_same_v<T, trigger::RunStateChange>) {
                const auto& b = std::get<RunStateChanged>(event.body);
                return run_text(b.run) + " entered state " + std::string(to_string(b.state));
            } else {
                const auto& b = std::get<RunMetricsLogged>(event.body);
                return run_text(b.run) + " logged " + quoted(spec.metric) + " at step " +
                       std::to_string(b.step);
            }
        },
        automation.trigger.spec());
}

}  // namespace herald::detail
