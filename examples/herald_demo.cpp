// herald's demo: a tracking server's model registry and a training project.
//
// It imports a handful of automations from herald's JSON format, publishes a scripted stream of
// events from the host's point of view, and prints which automations fired on each event and why.
#include <herald/herald.hpp>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

namespace {

constexpr const char* automations_json = R"([
  {"name": "deploy-production",
   "description": "alias production on a registered classifier deploys it",
   "scope": {"type": "COLLECTION", "entity": "acme", "project": "model-registry", "collection": "classifier"},
   "trigger": {"type": "ADD_ARTIFACT_ALIAS", "alias": "production"},
   "action": {"type": "NO_ACTION"}},
  {"name": "evaluate-candidates",
   "scope": {"type": "REGISTRY", "entity": "acme", "registry": "model-registry"},
   "trigger": {"type": "LINK_ARTIFACT", "alias": "^candidate"},
   "action": {"type": "NO_ACTION"}},
  {"name": "retrain-on-new-data",
   "scope": {"type": "PROJECT", "entity": "acme", "project": "mnist"},
   "trigger": {"type": "CREATE_ARTIFACT", "artifact_type": "dataset"},
   "action": {"type": "NO_ACTION"}},
  {"name": "any-prod-alias",
   "scope": {"type": "ENTITY", "entity": "acme"},
   "trigger": {"type": "ADD_ARTIFACT_ALIAS", "alias": "^prod.*$"},
   "action": {"type": "NO_ACTION"}},
  {"name": "alice-runs-failing",
   "scope": {"type": "PROJECT", "entity": "acme", "project": "mnist"},
   "trigger": {"type": "RUN_STATE", "states": ["FAILED"], "run_filter": {"user": "alice"}},
   "action": {"type": "NO_ACTION"}},
  {"name": "paused-rule", "enabled": false,
   "scope": {"type": "PROJECT", "entity": "acme", "project": "mnist"},
   "trigger": {"type": "ADD_ARTIFACT_TAG"},
   "action": {"type": "NO_ACTION"}}
])";

herald::ArtifactVersion version(std::string collection, std::int64_t index,
                                std::string type = "model") {
    return {
        .collection = std::move(collection), .collection_type = std::move(type), .index = index};
}

herald::Event event(std::string author, std::string project, herald::EventBody body) {
    return {.author = std::move(author),
            .entity = "acme",
            .project = std::move(project),
            .body = std::move(body)};
}

std::vector<std::pair<std::string, herald::Event>> script() {
    using namespace herald;
    ArtifactVersion candidate = version("classifier", 4);
    candidate.aliases = {"candidate-2026-11"};
    return {
        {"grace uploads a new dataset version to mnist",
         event("grace", "mnist",
               ArtifactCreated{.version = version("mnist-train", 12, "dataset")})},
        {"grace logs a new model checkpoint in mnist",
         event("grace", "mnist", ArtifactCreated{.version = version("mnist-cnn", 31)})},
        {"alice links the checkpoint to the registry as a candidate",
         event("alice", "model-registry",
               ArtifactLinked{.version = candidate,
                              .source = {.entity = "acme",
                                         .project = "mnist",
                                         .collection = "mnist-cnn",
                                         .index = 31}})},
        {"bob adds the alias staging",
         event("bob", "model-registry",
               AliasAdded{.version = version("classifier", 4), .alias = "staging"})},
        {"bob adds the alias production",
         event("bob", "model-registry",
               AliasAdded{.version = version("classifier", 4), .alias = "production"})},
        {"bob adds production-eu to another registered model",
         event("bob", "model-registry",
               AliasAdded{.version = version("detector", 2), .alias = "production-eu"})},
        {"grace tags a dataset (its automation is disabled)",
         event("grace", "mnist",
               TagAdded{.version = version("mnist-train", 12, "dataset"), .tag = "gold"})},
        {"alice's run crashes (Crashed counts as Failed)",
         event("alice", "mnist",
               RunStateChanged{.run = {.id = "r-17", .name = "sweep-17", .user = "alice"},
                               .state = RunState::crashed})},
        {"bob's run fails (the automation watches alice's runs only)",
         event("bob", "mnist",
               RunStateChanged{.run = {.id = "r-18", .name = "baseline", .user = "bob"},
                               .state = RunState::failed})},
    };
}

}  // namespace

int main() try {
    herald::Engine engine;
    const herald::Principal admin{.user = "ada", .roles = {herald::Role::entity_admin("acme")}};

    const auto automations =
        engine.automations().create_all(admin, herald::automations_from_json(automations_json));
    std::cout << "herald demo: automations for acme's model registry and its mnist project\n\n"
              << "Imported " << automations.size() << " automations from JSON:\n";
    for (const herald::Automation& a : automations)
        std::printf("  %-22s %-19s %-10s %s%s\n", a.name.c_str(),
                    std::string(herald::to_string(a.trigger.kind())).c_str(),
                    std::string(herald::to_string(a.scope.kind)).c_str(), a.scope.path().c_str(),
                    a.enabled ? "" : "  (disabled)");

    std::cout << "\nPublishing " << script().size() << " events:\n";
    std::size_t fired = 0, n = 0;
    for (auto& [what, e] : script()) {
        const herald::PublishReceipt receipt = engine.publish(std::move(e));
        std::cout << "\n[" << ++n << "] " << what << '\n';
        if (receipt.firings.empty())
            std::cout << "    no automation fired\n";
        for (const herald::Firing& f : receipt.firings)
            std::cout << "    fired " << f.automation_name << ": " << f.reason << '\n';
        fired += receipt.firings.size();
    }
    std::cout << "\n" << fired << " firings recorded; history per automation:\n";
    for (const herald::Automation& a : automations)
        std::printf("  %-22s %zu\n", a.name.c_str(), engine.history().by_automation(a.id).size());
    return 0;
} catch (const herald::Error& e) {
    std::cerr << "demo failed: " << e.what() << '\n';
    return 1;
}
