// Scope and filter semantics of every trigger kind, through Engine::publish.
#include "support/event_builders.hpp"

#include <herald/engine.hpp>
#include <herald/trigger.hpp>

#include <catch2/catch.hpp>

using namespace herald;
using herald::test::admin_of;
using herald::test::alias_added;
using herald::test::artifact_event;
using herald::test::version;

namespace {

struct Fixture {
    Engine engine;
    Principal admin = admin_of("acme");

    std::string add(Scope scope, Trigger trigger, std::string name = "rule") {
        return engine.automations()
            .create(admin, Automation{.name = std::move(name),
                                      .scope = std::move(scope),
                                      .trigger = std::move(trigger)})
            .id;
    }
    std::size_t fired(Event e) { return engine.publish(std::move(e)).firings.size(); }
};

Event created(std::string project, std::string collection, std::string type = "model") {
    ArtifactVersion v = version(std::move(collection));
    v.collection_type = std::move(type);
    return artifact_event("acme", std::move(project), ArtifactCreated{.version = std::move(v)});
}

Event linked(std::string registry, std::string collection, std::vector<std::string> aliases = {},
             std::vector<std::string> tags = {}) {
    ArtifactVersion v = version(std::move(collection), 7);
    v.aliases = std::move(aliases);
    v.tags = std::move(tags);
    return artifact_event(
        "acme", std::move(registry),
        ArtifactLinked{
            .version = std::move(v),
            .source = {.entity = "acme", .project = "mnist", .collection = "clf", .index = 2}});
}

Event tag_event(std::string project, std::string collection, std::string tag, bool added) {
    ArtifactVersion v = version(std::move(collection));
    if (added)
        return artifact_event("acme", std::move(project), TagAdded{.version = v, .tag = tag});
    return artifact_event("acme", std::move(project), TagRemoved{.version = v, .tag = tag});
}

const Run alice_run{.id = "r1", .name = "sweep-17", .user = "alice"};

}  // namespace

TEST_CASE("CREATE_ARTIFACT: project scope, collection and type filters", "[trigger]") {
    Fixture f;
    f.add(Scope::for_project("acme", "mnist"), trigger::CreateArtifact{}, "any");
    f.add(Scope::for_project("acme", "mnist"),
          trigger::CreateArtifact{.collection = Pattern{"^train-"}}, "train-only");
    f.add(Scope::for_project("acme", "mnist"), trigger::CreateArtifact{.artifact_type = "dataset"},
          "datasets");

    CHECK(f.fired(created("mnist", "clf")) == 1);
    CHECK(f.fired(created("mnist", "train-2024")) == 2);
    CHECK(f.fired(created("mnist", "train-2024", "dataset")) == 3);
    CHECK(f.fired(created("cifar", "train-2024", "dataset")) == 0);
}

TEST_CASE("CREATE_ARTIFACT: collection scope sees nothing else", "[trigger]") {
    Fixture f;
    f.add(Scope::for_collection("acme", "mnist", "clf"), trigger::CreateArtifact{});
    CHECK(f.fired(created("mnist", "clf")) == 1);
    CHECK(f.fired(created("mnist", "other")) == 0);
    CHECK(f.fired(created("cifar", "clf")) == 0);
}

TEST_CASE("LINK_ARTIFACT: registry scope sees collections created after the automation",
          "[trigger]") {
    Fixture f;
    f.add(Scope::for_registry("acme", "model-registry"), trigger::LinkArtifact{});
    // Neither collection existed when the automation was created; herald keeps no list of them.
    CHECK(f.fired(linked("model-registry", "classifier")) == 1);
    CHECK(f.fired(linked("model-registry", "brand-new-collection")) == 1);
    CHECK(f.fired(linked("other-registry", "classifier")) == 0);
}

TEST_CASE("LINK_ARTIFACT: entity scope sees all its projects and registries", "[trigger]") {
    Fixture f;
    f.add(Scope::for_entity("acme"), trigger::LinkArtifact{});
    CHECK(f.fired(linked("model-registry", "classifier")) == 1);
    CHECK(f.fired(linked("dataset-registry", "imagenet")) == 1);
    Event other_entity = linked("model-registry", "classifier");
    other_entity.entity = "globex";
    CHECK(f.fired(other_entity) == 0);
}

TEST_CASE("LINK_ARTIFACT: alias and tag filters look at the linked version", "[trigger]") {
    Fixture f;
    f.add(Scope::for_registry("acme", "reg"), trigger::LinkArtifact{.alias = Pattern{"production"}},
          "alias");
    f.add(Scope::for_registry("acme", "reg"), trigger::LinkArtifact{.tag = Pattern{"^eval-"}},
          "tag");
    CHECK(f.fired(linked("reg", "c", {"latest"}, {})) == 0);
    CHECK(f.fired(linked("reg", "c", {"latest", "production"}, {})) == 1);
    CHECK(f.fired(linked("reg", "c", {}, {"eval-ok"})) == 1);
    CHECK(f.fired(linked("reg", "c", {"production"}, {"eval-ok"})) == 2);
}

TEST_CASE("UNLINK_ARTIFACT fires on unlink only", "[trigger]") {
    Fixture f;
    f.add(Scope::for_collection("acme", "reg", "classifier"), trigger::UnlinkArtifact{});
    CHECK(f.fired(linked("reg", "classifier")) == 0);
    CHECK(f.fired(artifact_event("acme", "reg",
                                 ArtifactUnlinked{.version = version("classifier")})) == 1);
    CHECK(f.fired(artifact_event("acme", "reg", ArtifactUnlinked{.version = version("other")})) ==
          0);
}

TEST_CASE("ADD_ARTIFACT_ALIAS: a pattern ^prod.*$ against a plain production", "[trigger]") {
    Fixture f;
    f.add(Scope::for_project("acme", "mnist"),
          trigger::AddArtifactAlias{.alias = Pattern{"^prod.*$"}}, "regex");
    f.add(Scope::for_project("acme", "mnist"),
          trigger::AddArtifactAlias{.alias = Pattern{"production"}}, "exact");

    CHECK(f.fired(alias_added("acme", "mnist", "clf", "production")) == 2);
    CHECK(f.fired(alias_added("acme", "mnist", "clf", "prod-eu")) == 1);
    CHECK(f.fired(alias_added("acme", "mnist", "clf", "production-eu")) == 1);
    CHECK(f.fired(alias_added("acme", "mnist", "clf", "staging")) == 0);
    // Removing an alias is not adding one.
    CHECK(f.fired(artifact_event("acme", "mnist",
                                 AliasRemoved{.version = version("clf"), .alias = "production"})) ==
          0);
}

TEST_CASE("ADD_ARTIFACT_ALIAS works in every scope kind", "[trigger]") {
    Fixture f;
    const Trigger t = trigger::AddArtifactAlias{.alias = Pattern{"production"}};
    f.add(Scope::for_entity("acme"), t, "entity");
    f.add(Scope::for_project("acme", "mnist"), t, "project");
    f.add(Scope::for_registry("acme", "reg"), t, "registry");
    f.add(Scope::for_collection("acme", "reg", "clf"), t, "collection");
    CHECK(f.fired(alias_added("acme", "mnist", "x", "production")) == 2);  // entity + project
    CHECK(f.fired(alias_added("acme", "reg", "clf", "production")) == 3);  // entity + reg + coll
    CHECK(f.fired(alias_added("acme", "reg", "other", "production")) == 2);
    CHECK(f.fired(alias_added("globex", "reg", "clf", "production")) == 0);
}

TEST_CASE("ADD_ARTIFACT_TAG and REMOVE_ARTIFACT_TAG", "[trigger]") {
    Fixture f;
    f.add(Scope::for_project("acme", "mnist"), trigger::AddArtifactTag{.tag = Pattern{"gold"}},
          "add-gold");
    f.add(Scope::for_project("acme", "mnist"), trigger::AddArtifactTag{}, "add-any");
    f.add(Scope::for_project("acme", "mnist"), trigger::RemoveArtifactTag{.tag = Pattern{"gold"}},
          "remove-gold");
    CHECK(f.fired(tag_event("mnist", "c", "gold", true)) == 2);
    CHECK(f.fired(tag_event("mnist", "c", "silver", true)) == 1);
    CHECK(f.fired(tag_event("mnist", "c", "gold", false)) == 1);
    CHECK(f.fired(tag_event("mnist", "c", "silver", false)) == 0);
}

TEST_CASE("run metric triggers: project scope and run filters", "[trigger]") {
    Fixture f;
    // A condition every logged value meets, so only scope and filters decide.
    const auto below_ten = [](RunFilter runs) {
        return trigger::MetricThreshold{.metric = "loss",
                                        .comparison = Comparison::less,
                                        .threshold = 10,
                                        .runs = std::move(runs)};
    };
    f.add(Scope::for_project("acme", "mnist"), below_ten({}), "all-runs");
    f.add(Scope::for_project("acme", "mnist"), below_ten({.user = "alice"}), "alice");
    f.add(Scope::for_project("acme", "mnist"), below_ten({.name = Pattern{"^sweep-"}}), "sweeps");

    CHECK(f.fired(test::metrics_logged("mnist", alice_run, "loss", 0.5)) == 3);
    CHECK(f.fired(test::metrics_logged("mnist", {.id = "r2", .name = "sweep-2", .user = "bob"},
                                       "loss", 0.5)) == 2);
    CHECK(f.fired(test::metrics_logged("mnist", {.id = "r3", .name = "baseline", .user = "bob"},
                                       "loss", 0.5)) == 1);
    CHECK(f.fired(test::metrics_logged("mnist", {.id = "r4", .name = "x", .user = "bob"},
                                       "accuracy", 0.5)) == 0);
    CHECK(f.fired(test::metrics_logged("cifar", {.id = "r5", .name = "x", .user = "bob"}, "loss",
                                       0.5)) == 0);
}

TEST_CASE("RUN_STATE: chosen states, Crashed counts as Failed, Killed never fires", "[trigger]") {
    Fixture f;
    f.add(Scope::for_project("acme", "mnist"),
          trigger::RunStateChange{.states = {RunState::failed}}, "failed");
    f.add(Scope::for_project("acme", "mnist"),
          trigger::RunStateChange{.states = {RunState::finished, RunState::failed},
                                  .runs = {.user = "bob"}},
          "bob-done");
    const Run bob_run{.id = "b1", .name = "b", .user = "bob"};
    CHECK(f.fired(test::run_state("mnist", {.id = "a1", .user = "alice"}, RunState::failed)) == 1);
    CHECK(f.fired(test::run_state("mnist", {.id = "a2", .user = "alice"}, RunState::crashed)) == 1);
    CHECK(f.fired(test::run_state("mnist", {.id = "a3", .user = "alice"}, RunState::killed)) == 0);
    CHECK(f.fired(test::run_state("mnist", {.id = "a4", .user = "alice"}, RunState::running)) == 0);
    CHECK(f.fired(test::run_state("mnist", bob_run, RunState::finished)) == 1);
    CHECK(f.fired(test::run_state("cifar", {.id = "a5", .user = "alice"}, RunState::failed)) == 0);
}

TEST_CASE("which scopes each trigger kind allows", "[trigger]") {
    using enum ScopeKind;
    using enum TriggerKind;
    CHECK(allowed_in(create_artifact, project));
    CHECK(allowed_in(create_artifact, collection));
    CHECK_FALSE(allowed_in(create_artifact, registry));
    CHECK_FALSE(allowed_in(create_artifact, entity));
    for (TriggerKind k : {link_artifact, unlink_artifact}) {
        CHECK(allowed_in(k, registry));
        CHECK(allowed_in(k, collection));
        CHECK(allowed_in(k, entity));
        CHECK_FALSE(allowed_in(k, project));
    }
    for (ScopeKind s : {entity, project, registry, collection})
        CHECK(allowed_in(add_artifact_alias, s));
    for (TriggerKind k : {add_artifact_tag, remove_artifact_tag}) {
        CHECK(allowed_in(k, project));
        CHECK(allowed_in(k, registry));
        CHECK(allowed_in(k, collection));
        CHECK_FALSE(allowed_in(k, entity));
    }
    for (TriggerKind k : {run_metric_threshold, run_metric_change, run_metric_zscore, run_state}) {
        CHECK(allowed_in(k, project));
        CHECK_FALSE(allowed_in(k, registry));
        CHECK_FALSE(allowed_in(k, collection));
        CHECK_FALSE(allowed_in(k, entity));
    }
}

TEST_CASE(
    "trigger kind names round-trip and windows, thresholds and cooldowns default as documented",
    "[trigger]") {
    for (std::size_t i = 0; i < trigger_kind_count; ++i) {
        const auto kind = static_cast<TriggerKind>(i);
        CHECK(trigger_kind_from_string(to_string(kind)) == kind);
    }
    CHECK_FALSE(trigger_kind_from_string("ADD_ALIAS").has_value());
    CHECK(trigger::MetricThreshold{}.window == 5);
    CHECK(trigger::MetricThreshold{}.aggregate == Aggregate::average);
    CHECK(trigger::MetricChange{}.current_window == 10);
    CHECK(trigger::MetricChange{}.prior_window == 50);
    CHECK(trigger::MetricChange{}.mode == ChangeMode::relative);
    CHECK(trigger::MetricZScore{}.window == 30);
    CHECK(trigger::MetricZScore{}.threshold == 3.0);
    CHECK(trigger::MetricZScore{}.direction == ZScoreDirection::either);
    CHECK(trigger::RunStateChange{}.cooldown == std::chrono::hours{24});
}

TEST_CASE("every artifact trigger takes a collection name pattern", "[trigger]") {
    Fixture f;
    const Scope project = Scope::for_project("acme", "mnist");
    const Scope registry = Scope::for_registry("acme", "reg");
    const Pattern classifiers{"^clf-"};
    f.add(registry, trigger::LinkArtifact{.collection = classifiers}, "link");
    f.add(registry, trigger::UnlinkArtifact{.collection = classifiers}, "unlink");
    f.add(project,
          trigger::AddArtifactAlias{.alias = Pattern{"production"}, .collection = classifiers},
          "alias");
    f.add(project, trigger::AddArtifactTag{.collection = classifiers}, "tag");
    f.add(project, trigger::RemoveArtifactTag{.tag = Pattern{"gold"}, .collection = classifiers},
          "untag");

    CHECK(f.fired(linked("reg", "clf-resnet")) == 1);
    CHECK(f.fired(linked("reg", "detector")) == 0);
    CHECK(f.fired(artifact_event("acme", "reg",
                                 ArtifactUnlinked{.version = version("clf-resnet")})) == 1);
    CHECK(f.fired(artifact_event("acme", "reg", ArtifactUnlinked{.version = version("det")})) == 0);
    CHECK(f.fired(alias_added("acme", "mnist", "clf-a", "production")) == 1);
    CHECK(f.fired(alias_added("acme", "mnist", "det-a", "production")) == 0);
    CHECK(f.fired(alias_added("acme", "mnist", "clf-a", "staging")) == 0);  // both filters apply
    CHECK(f.fired(tag_event("mnist", "clf-a", "gold", true)) == 1);
    CHECK(f.fired(tag_event("mnist", "det-a", "gold", true)) == 0);
    CHECK(f.fired(tag_event("mnist", "clf-a", "gold", false)) == 1);
    CHECK(f.fired(tag_event("mnist", "det-a", "gold", false)) == 0);
    // The reason names the filter.
    const auto receipt = f.engine.publish(alias_added("acme", "mnist", "clf-a", "production"));
    REQUIRE(receipt.firings.size() == 1);
    CHECK(receipt.firings[0].reason ==
          "alias 'production' added to acme/mnist/clf-a:v1 (alias matches 'production') "
          "(collection matches '^clf-')");
}
