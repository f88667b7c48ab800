
#include <herald/error.hpp>
#include <herald/event_json.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

using namespace herald;

namespace {

ArtifactVersion classifier_v4() {
    ArtifactVersion v{.collection = "classifier",
                      .collection_type = "model",
                      .index = 4,
                      .id = "QXJ0",
                      .uri = "wandb-artifact://_id/QXJ0"};
    v.aliases = {"latest", "production"};
    v.tags = {"reviewed"};
    v.metadata["accuracy"] = 0.93;
    return v;
}

std::vector<Event> every_kind() {
    const Run run{.id = "r1", .name = "bright-sun-7", .user = "alice"};
    const SourceVersion source{
        .entity = "acme", .project = "mnist", .collection = "clf", .index = 2};
    std::vector<EventBody> bodies{
        ArtifactCreated{classifier_v4()},
        ArtifactLinked{classifier_v4(), source},
        ArtifactUnlinked{classifier_v4(), source},
        AliasAdded{classifier_v4(), "production"},
        AliasRemoved{classifier_v4(), "staging"},
        TagAdded{classifier_v4(), "gold"},
        TagRemoved{classifier_v4(), "gold"},
        RunMetricsLogged{run, 12, {{"loss", 0.25}, {"acc", 0.5}}},
        RunStateChanged{run, RunState::failed},
    };
    std::vector<Event> events;
    for (EventBody& body : bodies)
        events.push_back({.id = "e" + std::to_string(events.size()),
                          .time = *parse_rfc3339("2026-11-22T12:25:44.5Z"),
                          .author = "alice",
                          .entity = "acme",
                          .project = "model-registry",
                          .body = std::move(body)});
    return events;
}

}  // namespace

TEST_CASE("event JSON: every kind round-trips", "[event_json]") {
    for (const Event& e : every_kind()) {
        INFO(to_json(e));
        CHECK(event_from_json(to_json(e)) == e);
    }
    CHECK(event_type_name(EventKind::run_state_changed) == "RUN_STATE_CHANGED");
}

TEST_CASE("event JSON: errors name the field", "[event_json]") {
    const auto field_of = [](std::string_view text) {
        try {
            event_from_json(text);
        } catch (const Error& e) {
            return e.field() + ": " + e.reason();
        }
        return std::string("no error");
    };
    CHECK(field_of(R"({"type": "NOPE", "entity": "a", "project": "p"})")
              .starts_with("type: unknown value 'NOPE'"));
    CHECK(field_of(R"({"type": "TAG_ADDED", "entity": "a", "project": "p", "tag": "t",
                       "version": {"collection": "c", "index": -1}})") ==
          "version.index: must be an integer >= 0");
    CHECK(field_of(R"({"type": "RUN_METRICS_LOGGED", "entity": "a", "project": "p", "step": 1,
                       "run": {"id": "r"}, "metrics": {"loss": "low"}})") ==
          R"(metrics.loss: must be a number (or "NaN", "Infinity", "-Infinity"))");
    CHECK(field_of(R"({"type": "RUN_METRICS_LOGGED", "entity": "a", "project": "p", "step": 1,
                       "run": {"id": "r"}, "metrics": [{"name": "loss", "value": true}]})") ==
          R"(metrics[0].value: must be a number (or "NaN", "Infinity", "-Infinity"))");
    CHECK(field_of(R"({"type": "RUN_METRICS_LOGGED", "entity": "a", "project": "p", "step": 1,
                       "run": {"id": "r"}, "metrics": [{"name": "loss", "value": 1, "x": 2}]})") ==
          "metrics[0].x: unknown field");
    CHECK(field_of(R"({"type": "RUN_METRICS_LOGGED", "entity": "a", "project": "p", "step": 1,
                       "run": {"id": "r"}, "metrics": []})")
              .starts_with("metrics: must be a non-empty array"));
    CHECK(field_of(R"({"type": "RUN_STATE_CHANGED", "entity": "a", "project": "p",
                       "run": {"id": "r"}, "state": "FAILED", "extra": 1})") ==
          "extra: unknown field");
    CHECK(field_of(R"({"type": "ALIAS_ADDED", "entity": "a", "project": "p", "alias": "x",
                       "version": {"collection": "c", "index": 1}, "time": "noon"})")
              .starts_with("time: must be an RFC 3339 time"));
    CHECK(field_of("[1]") == "(document): must be a JSON object");
    CHECK_THROWS_AS(event_from_json(std::string_view("{")), Error);
}

TEST_CASE("event JSON: metrics keep their order, repeats and non-finite values", "[event_json]") {
    const Run run{.id = "r1"};
    const double inf = std::numeric_limits<double>::infinity();
    const Event e{.id = "e1",
                  .entity = "acme",
                  .project = "mnist",
                  .body = RunMetricsLogged{run, 3, {{"loss", 0.5}, {"acc", inf}, {"loss", -inf}}}};
    const std::string text = to_json(e);
    CHECK(text.find(R"("metrics":[{"name":"loss","value":0.5},{"name":"acc","value":"Infinity"},)"
                    R"({"name":"loss","value":"-Infinity"}])") != std::string::npos);
    CHECK(event_from_json(text) == e);

    const Event nan = event_from_json(std::string_view(R"({"type": "RUN_METRICS_LOGGED",
        "entity": "a", "project": "p", "step": 1, "run": {"id": "r"},
        "metrics": {"loss": "NaN", "acc": 1}})"));
    const auto& points = std::get<RunMetricsLogged>(nan.body).metrics;
    REQUIRE(points.size() == 2);
    CHECK(std::isnan(points[0].value));
    CHECK(points[1].value == 1);
}
