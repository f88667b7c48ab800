// herald/event.hpp — what the host publishes.
//
// An `Event` is a value: the common header (id, time, author, entity, project) and a body whose
// type names the event kind. The host fills it in and hands it to `Engine::publish`:
//
// clang-format off
//     herald::Event e{.author = "alice", .entity = "acme", .project = "model-registry",
//                     .body = herald::AliasAdded{.version = v3, .alias = "production"}};
//     engine.publish(std::move(e));
// clang-format on
//
// An empty `id` is replaced by a generated unique id, a zero `time` by the engine clock's now.
#pragma once

#include <herald/clock.hpp>

#include <boost/json/object.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace herald {

/// One version of an artifact collection (v0, v1, ...), as the host knows it.
struct ArtifactVersion {
    std::string collection;       ///< collection name (artifact collection or registered model)
    std::string collection_type;  ///< artifact type, e.g. "model", "dataset"
    std::int64_t index = 0;       ///< the N of vN
    std::string id;               ///< the host's version id
    std::string uri;              ///< host-supplied, e.g. "wandb-artifact://_id/..."
    std::vector<std::string> aliases;
    std::vector<std::string> tags;
    boost::json::object metadata;  ///< top-level metadata

    friend bool operator==(const ArtifactVersion&, const ArtifactVersion&) = default;
};

/// Where a linked version comes from.
struct SourceVersion {
    std::string entity;
    std::string project;
    std::string collection;
    std::int64_t index = 0;

    friend bool operator==(const SourceVersion&, const SourceVersion&) = default;
};

/// A run as events describe it.
struct Run {
    std::string id;
    std::string name;  ///< display name
    std::string user;  ///< who started it

    friend bool operator==(const Run&, const Run&) = default;
};

enum class RunState { running, finished, failed, crashed, killed };

struct MetricPoint {
    std::string name;
    double value = 0;

    friend bool operator==(const MetricPoint&, const MetricPoint&) = default;
};

/// A new version was added to a collection (event.project holds the collection).
struct ArtifactCreated {
    ArtifactVersion version;
    friend bool operator==(const ArtifactCreated&, const ArtifactCreated&) = default;
};
/// A version was linked to a registry collection: `version` is the version in the registry
/// (event.project is the registry), `source` the version it was linked from.
struct ArtifactLinked {
    ArtifactVersion version;
    SourceVersion source;
    friend bool operator==(const ArtifactLinked&, const ArtifactLinked&) = default;
};
struct ArtifactUnlinked {
    ArtifactVersion version;
    SourceVersion source;
    friend bool operator==(const ArtifactUnlinked&, const ArtifactUnlinked&) = default;
};
struct AliasAdded {
    ArtifactVersion version;
    std::string alias;
    friend bool operator==(const AliasAdded&, const AliasAdded&) = default;
};
struct AliasRemoved {
    ArtifactVersion version;
    std::string alias;
    friend bool operator==(const AliasRemoved&, const AliasRemoved&) = default;
};
struct TagAdded {
    ArtifactVersion version;
    std::string tag;
    friend bool operator==(const TagAdded&, const TagAdded&) = default;
};
struct TagRemoved {
    ArtifactVersion version;
    std::string tag;
    friend bool operator==(const TagRemoved&, const TagRemoved&) = default;
};
/// One log call of a run: one or more metric values at a step.
struct RunMetricsLogged {
    Run run;
    std::int64_t step = 0;
    std::vector<MetricPoint> metrics;
    friend bool operator==(const RunMetricsLogged&, const RunMetricsLogged&) = default;
};
struct RunStateChanged {
    Run run;
    RunState state = RunState::running;
    friend bool operator==(const RunStateChanged&, const RunStateChanged&) = default;
};

/// The kinds, in the order of `EventBody`'s alternatives.
enum class EventKind {
    artifact_created,
    artifact_linked,
    artifact_unlinked,
    alias_added,
    alias_removed,
    tag_added,
    tag_removed,
    run_metrics_logged,
    run_state_changed,
};
inline constexpr std::size_t event_kind_count = 9;

using EventBody =
    std::variant<ArtifactCreated, ArtifactLinked, ArtifactUnlinked, AliasAdded, AliasRemoved,
                 TagAdded, TagRemoved, RunMetricsLogged, RunStateChanged>;

/// An event published by the host. Value type; thread-compatible.
struct Event {
    std::string id;  ///< stable and unique; generated when empty
    Timestamp time{};
    std::string author;  ///< the user who caused it
    std::string entity;
    std::string project;  ///< the project or registry it happened in
    EventBody body;

    EventKind kind() const noexcept { return static_cast<EventKind>(body.index()); }
    /// The artifact version an artifact event is about; nullptr for run events.
    const ArtifactVersion* artifact() const noexcept;
    /// The run a run event is about; nullptr for artifact events.
    const Run* run() const noexcept;

    friend bool operator==(const Event&, const Event&) = default;
};

std::string_view to_string(EventKind kind) noexcept;  ///< "artifact_created", ...
std::string_view to_string(RunState state) noexcept;  ///< "Running", "Finished", ...

}  // namespace herald
