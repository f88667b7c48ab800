// Builders for the events and principals tests publish; header-only, test code only.
#pragma once

#include <herald/authorizer.hpp>
#include <herald/event.hpp>

#include <string>
#include <utility>

namespace herald::test {

inline Principal admin_of(std::string entity) {
    return {.user = "admin", .roles = {Role::entity_admin(std::move(entity))}};
}

inline ArtifactVersion version(std::string collection, std::int64_t index = 1) {
    return {.collection = std::move(collection), .collection_type = "model", .index = index};
}

inline Event artifact_event(std::string entity, std::string project, EventBody body) {
    return {.author = "grace",
            .entity = std::move(entity),
            .project = std::move(project),
            .body = std::move(body)};
}

inline Event alias_added(std::string entity, std::string project, std::string collection,
                         std::string alias) {
    return artifact_event(
        std::move(entity), std::move(project),
        AliasAdded{.version = version(std::move(collection)), .alias = std::move(alias)});
}

inline Event metrics_logged(std::string project, Run run, std::string metric, double value,
                            std::int64_t step = 0) {
    return {.author = run.user,
            .entity = "acme",
            .project = std::move(project),
            .body = RunMetricsLogged{.run = std::move(run),
                                     .step = step,
                                     .metrics = {{.name = std::move(metric), .value = value}}}};
}

inline Event run_state(std::string project, Run run, RunState state) {
    return {.author = run.user,
            .entity = "acme",
            .project = std::move(project),
            .body = RunStateChanged{.run = std::move(run), .state = state}};
}

}  // namespace herald::test
