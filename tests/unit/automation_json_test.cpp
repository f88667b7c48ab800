#include <herald/automation_json.hpp>
#include <herald/error.hpp>

#include <catch2/catch.hpp>

#include <fstream>
#include <set>
#include <sstream>

using namespace herald;
using namespace std::chrono_literals;

namespace {

Automation with(Scope scope, Trigger trigger, Action action = action::None{}) {
    return {.name = "rule",
            .description = "a rule",
            .scope = std::move(scope),
            .trigger = std::move(trigger),
            .action = std::move(action)};
}

std::string error_field(std::string_view text) {
    try {
        automation_from_json(text);
    } catch (const Error& e) {
        return e.field() + " | " + e.reason();
    }
    return "no error";
}

/// The ```json blocks between `<!-- marker -->` and `<!-- /marker -->` of a file of the tree.
std::vector<std::string> json_examples(const std::string& file, const std::string& marker) {
    std::ifstream in(HERALD_SOURCE_DIR "/" + file);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    const auto begin = text.find("<!-- " + marker + " -->");
    const auto end = text.find("<!-- /" + marker + " -->");
    REQUIRE(begin != std::string::npos);
    REQUIRE(end != std::string::npos);
    std::vector<std::string> blocks;
    for (auto at = text.find("```json\n", begin); at < end; at = text.find("```json\n", at)) {
        at += 8;
        const auto close = text.find("```", at);
        blocks.push_back(text.substr(at, close - at));
        at = close + 3;
    }
    return blocks;
}

}  // namespace

TEST_CASE("every trigger and action kind round-trips through JSON", "[automation_json]") {
    const RunFilter runs{.user = "alice", .name = Pattern{"^sweep-"}};
    const std::vector<Automation> all{
        with(Scope::for_project("acme", "mnist"),
             trigger::CreateArtifact{.collection = Pattern{"^train"}, .artifact_type = "dataset"}),
        with(Scope::for_registry("acme", "reg"),
             trigger::LinkArtifact{.alias = Pattern{"production"}, .tag = Pattern{"ok"}},
             action::Webhook{.integration = "deploy",
                             .payload = R"({"event_type":"${event_type}","n":[1,2]})"}),
        with(Scope::for_entity("acme"), trigger::UnlinkArtifact{}),
        with(Scope::for_collection("acme", "reg", "clf"),
             trigger::AddArtifactAlias{.alias = Pattern{"^prod.*$"}},
             action::SlackNotification{.integration = "alerts",
                                       .title = "t ${alias}",
                                       .message = "m",
                                       .severity = Severity::warn}),
        with(Scope::for_project("acme", "mnist"), trigger::AddArtifactTag{.tag = Pattern{"gold"}}),
        with(Scope::for_project("acme", "mnist"), trigger::RemoveArtifactTag{}),
        with(Scope::for_project("acme", "mnist"),
             trigger::MetricThreshold{.metric = "loss",
                                      .window = 7,
                                      .aggregate = Aggregate::max,
                                      .comparison = Comparison::less_equal,
                                      .threshold = 0.25,
                                      .runs = runs,
                                      .cooldown = 1h},
             action::LaunchJob{.queue = "gpu",
                               .job = "retrain",
                               .job_version = "v3",
                               .project = "mnist",
                               // Templates are kept as text; this one is already in the form
                               // Boost.JSON writes, so the text survives the round trip.
                               .override = R"({"override":{"args":{"lr":1E-1}}})"}),
        with(Scope::for_project("acme", "mnist"),
             trigger::MetricChange{.metric = "acc",
                                   .current_window = 3,
                                   .prior_window = 9,
                                   .mode = ChangeMode::absolute,
                                   .direction = ChangeDirection::decrease,
                                   .amount = 0.05}),
        with(Scope::for_project("acme", "mnist"),
             trigger::MetricZScore{.metric = "gpu",
                                   .window = 12,
                                   .direction = ZScoreDirection::above,
                                   .threshold = 2.5,
                                   .runs = {.user = "bob"}}),
        with(Scope::for_project("acme", "mnist"),
             trigger::RunStateChange{.states = {RunState::finished, RunState::failed},
                                     .runs = runs}),
    };
    for (const Automation& a : all) {
        INFO(to_json(a));
        CHECK(automation_from_json(to_json(a)) == a);
    }
}

TEST_CASE("server-managed fields round-trip too", "[automation_json]") {
    Automation a = with(Scope::for_project("acme", "mnist"), trigger::RemoveArtifactTag{});
    a.id = "7d3c";
    a.creator = "ada";
    a.enabled = false;
    a.created_at = Timestamp{1000h + 500ms};
    a.updated_at = Timestamp{1001h};
    CHECK(automation_from_json(to_json(a)) == a);
}

TEST_CASE("an array imports several automations and names the bad element", "[automation_json]") {
    const auto list = automations_from_json(R"([
        {"name": "a", "scope": {"type": "PROJECT", "entity": "acme", "project": "p"},
         "trigger": {"type": "RUN_STATE", "states": ["FAILED"]}, "action": {"type": "NO_ACTION"}},
        {"name": "b", "scope": {"type": "ENTITY", "entity": "acme"},
         "trigger": {"type": "UNLINK_ARTIFACT"}, "action": {"type": "NO_ACTION"}}])");
    CHECK(list.size() == 2);
    try {
        automations_from_json(R"([{"name": "a"}, 3])");
        FAIL("expected an error");
    } catch (const Error& e) {
        CHECK(e.field() == "[0].scope");
    }
}

TEST_CASE("invalid JSON input names the field and the reason", "[automation_json]") {
    const std::string scope = R"("scope": {"type": "PROJECT", "entity": "acme", "project": "p"})";
    const std::string action = R"("action": {"type": "NO_ACTION"})";
    const auto doc = [&](std::string name, std::string trigger) {
        return "{\"name\": " + name + ", " + scope + ", \"trigger\": " + trigger + ", " + action +
               "}";
    };
    CHECK_THAT(error_field("{\"name\": "), Catch::StartsWith(" | "));
    CHECK_THAT(error_field(doc("\"x\"", R"({"type": "ADD_ALIAS", "alias": "p"})")),
               Catch::StartsWith("trigger.type | unknown trigger type 'ADD_ALIAS'"));
    CHECK_THAT(error_field(doc("\"x\"", R"({"type": "ADD_ARTIFACT_ALIAS", "alias": "(prod"})")),
               Catch::StartsWith("trigger.alias | pattern '(prod' does not compile"));
    CHECK_THAT(error_field(doc("\"x\"", R"({"type": "LINK_ARTIFACT"})")),
               Catch::StartsWith("trigger.type | LINK_ARTIFACT cannot be used in a PROJECT scope"));
    CHECK_THAT(error_field(doc("\"x\"", R"({"type": "RUN_METRIC_THRESHOLD", "metric": "loss",
                                            "window": -5, "operator": "<", "threshold": 1})")),
               Catch::StartsWith("trigger.window | must be a positive integer"));
    CHECK_THAT(error_field(doc("\"\"", R"({"type": "UNLINK_ARTIFACT"})")),
               Catch::StartsWith("name | must not be empty"));
    CHECK_THAT(error_field(doc("\"x\"", R"({"type": "RUN_METRIC_THRESHOLD", "metric": "loss",
                                            "operator": "~", "threshold": 1})")),
               Catch::StartsWith("trigger.operator | unknown value '~'"));
    CHECK_THAT(error_field(doc("\"x\"", R"({"type": "RUN_STATE", "states": ["FAILED", "LOST"]})")),
               Catch::StartsWith("trigger.states[1] | unknown value 'LOST'"));
    CHECK_THAT(
        error_field(doc("\"x\"", R"({"type": "ADD_ARTIFACT_ALIAS", "alias": "p", "tag": "t"})")),
        Catch::StartsWith("trigger.tag | unknown field"));
    CHECK_THAT(error_field(doc("7", R"({"type": "UNLINK_ARTIFACT"})")),
               Catch::StartsWith("name | must be a string"));
    CHECK_THAT(error_field(doc("\"x\"", R"({"type": "ADD_ARTIFACT_ALIAS"})")),
               Catch::StartsWith("trigger.alias | is required"));
    CHECK_THAT(error_field("[]"), Catch::StartsWith("(document) | must be a JSON object"));
}

TEST_CASE("the documented JSON examples are valid automations", "[automation_json]") {
    const auto examples = json_examples("doc/formats.md", "automation-json-examples");
    CHECK(examples.size() >= 10);
    std::set<TriggerKind> kinds;
    for (const std::string& text : examples) {
        INFO(text);
        const Automation a = automation_from_json(text);
        kinds.insert(a.trigger.kind());
        CHECK(automation_from_json(to_json(a)) == a);
    }
    CHECK(kinds.size() == trigger_kind_count);
}

TEST_CASE("pending period and hysteresis round-trip, and are optional", "[automation_json]") {
    const Hysteresis h{
        .pending_evaluations = 3, .pending_for = 90s, .recovery = 0.1, .notify_resolved = true};
    const std::vector<Automation> all{
        with(Scope::for_project("acme", "mnist"),
             trigger::MetricThreshold{.metric = "loss",
                                      .comparison = Comparison::greater,
                                      .threshold = 0.5,
                                      .hysteresis = {.pending_evaluations = 3,
                                                     .pending_for = 90s,
                                                     .recovery = 0.4,
                                                     .notify_resolved = true}}),
        with(Scope::for_project("acme", "mnist"),
             trigger::MetricChange{.metric = "acc", .amount = 0.2, .hysteresis = h}),
        with(Scope::for_project("acme", "mnist"),
             trigger::MetricZScore{.metric = "gpu", .hysteresis = {.recovery = 2}}),
        with(Scope::for_project("acme", "mnist"),
             trigger::MetricZScore{
                 .metric = "gpu", .mode = ZScoreMode::across_runs, .recent_runs = 12}),
    };
    for (const Automation& a : all) {
        INFO(to_json(a));
        CHECK(automation_from_json(to_json(a)) == a);
    }
    CHECK_THAT(to_json(all[1]), Catch::Contains(R"("recovery_amount":1E-1)"));
    CHECK_THAT(to_json(all[2]), Catch::Contains(R"("recovery_threshold":2E0)"));
    CHECK_THAT(to_json(all[2]), !Catch::Contains("mode"));
    CHECK_THAT(to_json(all[3]), Catch::Contains(R"("mode":"ACROSS_RUNS","recent_runs":12)"));

    // JSON without the fields reads as the plain trigger, and a plain trigger writes none.
    const Automation plain = automation_from_json(std::string_view(R"({"name": "x",
        "scope": {"type": "PROJECT", "entity": "acme", "project": "p"},
        "trigger": {"type": "RUN_METRIC_THRESHOLD", "metric": "loss", "operator": "<",
                    "threshold": 1},
        "action": {"type": "NO_ACTION"}})"));
    CHECK(*plain.trigger.hysteresis() == Hysteresis{});
    for (const char* key : {"pending", "recovery", "resolved"})
        CHECK_THAT(to_json(plain), !Catch::Contains(key));
}

TEST_CASE("pending period and recovery bounds are checked", "[automation_json]") {
    const auto threshold = [](std::string fields) {
        return error_field(R"({"name": "x",
            "scope": {"type": "PROJECT", "entity": "acme", "project": "p"},
            "trigger": {"type": "RUN_METRIC_THRESHOLD", "metric": "loss", "operator": ">",
                        "threshold": 1, )" +
                           fields + R"(}, "action": {"type": "NO_ACTION"}})");
    };
    CHECK(threshold(R"("recovery_threshold": 0.5)") == "no error");
    CHECK_THAT(threshold(R"("pending_evaluations": 0)"),
               Catch::StartsWith("trigger.pending_evaluations | must be a positive integer"));
    CHECK_THAT(threshold(R"("pending_evaluations": 2000000)"),
               Catch::StartsWith("trigger.pending_evaluations | must be between 1 and 1000000"));
    CHECK_THAT(threshold(R"("pending_seconds": -1)"),
               Catch::StartsWith("trigger.pending_seconds |"));
    CHECK_THAT(threshold(R"("recovery_threshold": 1.5)"),
               Catch::StartsWith("trigger.recovery_threshold | must not be above the threshold"));
    CHECK_THAT(threshold(R"("notify_resolved": "yes")"),
               Catch::StartsWith("trigger.notify_resolved | must be true or false"));
    CHECK_THAT(threshold(R"("recovery_amount": 0.5)"),
               Catch::StartsWith("trigger.recovery_amount | unknown field"));
    const auto zscore = [](std::string fields) {
        return error_field(R"({"name": "x",
            "scope": {"type": "PROJECT", "entity": "acme", "project": "p"},
            "trigger": {"type": "RUN_METRIC_ZSCORE", "metric": "loss", )" +
                           fields + R"(}, "action": {"type": "NO_ACTION"}})");
    };
    CHECK_THAT(zscore(R"("mode": "ACROSS_PROJECTS")"),
               Catch::StartsWith("trigger.mode | unknown value 'ACROSS_PROJECTS'"));
    CHECK_THAT(zscore(R"("mode": "ACROSS_RUNS", "recent_runs": 1)"),
               Catch::StartsWith("trigger.recent_runs | must be between 2 and 10000 runs"));
    CHECK_THAT(zscore(R"("recovery_threshold": 4)"),
               Catch::StartsWith("trigger.recovery_threshold | must be greater than 0 and at most "
                                 "the threshold"));
    CHECK_THAT(error_field(R"({"name": "x",
            "scope": {"type": "PROJECT", "entity": "acme", "project": "p"},
            "trigger": {"type": "RUN_METRIC_THRESHOLD", "metric": "loss", "operator": "==",
                        "threshold": 1, "recovery_threshold": 1},
            "action": {"type": "NO_ACTION"}})"),
               Catch::StartsWith("trigger.recovery_threshold | needs a '>', '>=', '<' or '<='"));
}

TEST_CASE("collection filters on every artifact trigger round-trip, and are optional",
          "[automation_json]") {
    const Pattern c{"^clf-"};
    const std::vector<Automation> all{
        with(Scope::for_registry("acme", "reg"), trigger::LinkArtifact{.collection = c}),
        with(Scope::for_registry("acme", "reg"), trigger::UnlinkArtifact{.collection = c}),
        with(Scope::for_project("acme", "mnist"),
             trigger::AddArtifactAlias{.alias = Pattern{"production"}, .collection = c}),
        with(Scope::for_project("acme", "mnist"), trigger::AddArtifactTag{.collection = c}),
        with(Scope::for_project("acme", "mnist"), trigger::RemoveArtifactTag{.collection = c}),
    };
    for (const Automation& a : all) {
        INFO(to_json(a));
        CHECK_THAT(to_json(a), Catch::Contains(R"("collection":"^clf-")"));
        CHECK(automation_from_json(to_json(a)) == a);
    }
    CHECK_THAT(to_json(with(Scope::for_registry("acme", "reg"), trigger::UnlinkArtifact{})),
               !Catch::Contains("collection"));
    CHECK_THAT(error_field(R"({"name": "x",
            "scope": {"type": "REGISTRY", "entity": "acme", "registry": "reg"},
            "trigger": {"type": "UNLINK_ARTIFACT", "collection": "(clf"},
            "action": {"type": "NO_ACTION"}})"),
               Catch::StartsWith("trigger.collection | pattern '(clf' does not compile"));
}

namespace {

/// The automations of the ```json blocks under `marker` in doc/triggers.md; each must read and
/// round-trip.
std::vector<Automation> doc_automations(const std::string& marker) {
    std::vector<Automation> out;
    for (const std::string& text : json_examples("doc/triggers.md", marker)) {
        INFO(text);
        out.push_back(automation_from_json(text));
        CHECK(automation_from_json(to_json(out.back())) == out.back());
    }
    return out;
}

}  // namespace

TEST_CASE("doc/triggers.md's JSON examples are valid automations", "[automation_json]") {
    const auto hysteresis = doc_automations("hysteresis-json-examples");
    CHECK(hysteresis.size() == 3);
    for (const Automation& a : hysteresis)
        CHECK(a.trigger.hysteresis()->recovery);
    const auto zscore = doc_automations("zscore-json-examples");
    REQUIRE(zscore.size() == 1);
    REQUIRE(zscore[0].trigger.get_if<trigger::MetricZScore>());
    CHECK(zscore[0].trigger.get_if<trigger::MetricZScore>()->mode == ZScoreMode::across_runs);
    CHECK(zscore[0].trigger.get_if<trigger::MetricZScore>()->recent_runs == 50);
    const auto collection = doc_automations("collection-json-examples");
    CHECK(collection.size() == 2);
    for (const Automation& a : collection)
        CHECK_THAT(to_json(a), Catch::Contains(R"("collection":)"));
}

TEST_CASE("a webhook action's payload is optional, and left out when it has none",
          "[automation_json]") {
    const Automation a = automation_from_json(R"({
        "name": "deploy", "scope": {"type": "PROJECT", "entity": "acme", "project": "mnist"},
        "trigger": {"type": "ADD_ARTIFACT_ALIAS", "alias": "production"},
        "action": {"type": "WEBHOOK", "integration": "deploy"}})");
    const auto* webhook = a.action.get_if<action::Webhook>();
    REQUIRE(webhook);
    CHECK(webhook->integration == "deploy");
    CHECK(webhook->payload.empty());
    CHECK(to_json(a).find("payload") == std::string::npos);
    CHECK(automation_from_json(to_json(a)) == a);
    // A payload, when given, must still be a JSON object.
    CHECK_THAT(error_field(R"({"name": "d",
        "scope": {"type": "PROJECT", "entity": "acme", "project": "mnist"},
        "trigger": {"type": "ADD_ARTIFACT_ALIAS", "alias": "production"},
        "action": {"type": "WEBHOOK", "integration": "deploy", "payload": "text"}})"),
               Catch::StartsWith("action.payload"));
}
