// Payload templates: variables on every trigger kind, escaping, structured values,
// compile errors with their position, secrets, the default webhook payload, and the seeds'
// example payloads.
#include "support/seed_payloads.hpp"
#include "template/action_templates.hpp"

#include <herald/error.hpp>
#include <herald/secret_store.hpp>
#include <herald/template.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

using namespace herald;
namespace json = boost::json;

namespace {

constexpr TriggerKind all_triggers[] = {
    TriggerKind::create_artifact,      TriggerKind::link_artifact,
    TriggerKind::unlink_artifact,      TriggerKind::add_artifact_alias,
    TriggerKind::add_artifact_tag,     TriggerKind::remove_artifact_tag,
    TriggerKind::run_metric_threshold, TriggerKind::run_metric_change,
    TriggerKind::run_metric_zscore,    TriggerKind::run_state,
};

bool is_artifact(TriggerKind t) {
    return listens_to(t) != EventKind::run_metrics_logged &&
           listens_to(t) != EventKind::run_state_changed;
}
bool is_metric(TriggerKind t) {
    return listens_to(t) == EventKind::run_metrics_logged;
}

ArtifactVersion sample_version() {
    return {.collection = "classifier",
            .collection_type = "model",
            .index = 3,
            .id = "QXJ0aWZhY3Q6NTE3ODg5ODg7",
            .uri = "wandb-artifact://_id/QXJ0aWZhY3Q6NTE3ODg5ODg7",
            .aliases = {"latest"},
            .tags = {"candidate"},
            .metadata = json::parse(R"({"accuracy": 0.93, "framework": "torch",
                                        "params": {"lr": 0.01, "layers": [64, 32]}})")
                            .as_object()};
}

EventBody body_for(TriggerKind kind) {
    const Run run{.id = "run-7", .name = "bright-sun-7", .user = "ada"};
    const SourceVersion source{
        .entity = "acme", .project = "mnist", .collection = "mnist-cnn", .index = 12};
    switch (kind) {
        case TriggerKind::create_artifact:
            return ArtifactCreated{.version = sample_version()};
        case TriggerKind::link_artifact:
            return ArtifactLinked{.version = sample_version(), .source = source};
        case TriggerKind::unlink_artifact:
            return ArtifactUnlinked{.version = sample_version(), .source = source};
        case TriggerKind::add_artifact_alias:
            return AliasAdded{.version = sample_version(), .alias = "production"};
        case TriggerKind::add_artifact_tag:
            return TagAdded{.version = sample_version(), .tag = "reviewed"};
        case TriggerKind::remove_artifact_tag:
            return TagRemoved{.version = sample_version(), .tag = "candidate"};
        case TriggerKind::run_state:
            return RunStateChanged{.run = run, .state = RunState::failed};
        default:
            return RunMetricsLogged{.run = run, .step = 40, .metrics = {{"loss", 0.21}}};
    }
}

Firing firing_for(TriggerKind kind) {
    Firing f{.id = "delivery-1",
             .automation_id = "automation-1",
             .automation_name = "deploy-production",
             .event = {.id = "evt-1",
                       .time = *parse_rfc3339("2026-11-22T12:00:00Z"),
                       .author = "grace",
                       .entity = "acme",
                       .project = is_artifact(kind) ? "model-registry" : "mnist",
                       .body = body_for(kind)}};
    if (is_metric(kind))
        f.metric = MetricObservation{.metric_name = "loss",
                                     .metric_value = 0.21,
                                     .metric_values = {0.3, 0.25, 0.21},
                                     .metric_condition = "avg(loss) over last 3 = 0.253 < 0.26"};
    return f;
}

/// What `"${name}"` renders to for the sample firing of `kind`, as JSON.
json::value expected_value(const std::string& name, TriggerKind kind) {
    const std::string version_suffix =
        kind == TriggerKind::add_artifact_alias ? "production" : "v3";
    if (name == "event_type")
        return json::string(to_string(kind));
    if (name == "event_author")
        return "grace";
    if (name == "entity_name")
        return "acme";
    if (name == "project_name")
        return is_artifact(kind) ? "model-registry" : "mnist";
    if (name == "automation_name")
        return "deploy-production";
    if (name == "event_id")
        return "evt-1";
    if (name == "event_time")
        return "2026-11-22T12:00:00Z";
    if (name == "artifact_collection_name")
        return "classifier";
    if (name == "artifact_version")
        return "wandb-artifact://_id/QXJ0aWZhY3Q6NTE3ODg5ODg7";
    if (name == "artifact_version_string")
        return json::string("acme/model-registry/classifier:" + version_suffix);
    if (name == "artifact_version_index")
        return "3";
    if (name == "artifact_metadata")
        return sample_version().metadata;
    if (name == "artifact_metadata.framework")
        return "torch";
    if (name == "artifact_metadata.accuracy")
        return "0.93";
    if (name == "artifact_metadata.params")
        return json::parse(R"({"lr": 0.01, "layers": [64, 32]})");
    if (name == "artifact_metadata.missing")
        return "";
    if (name == "alias")
        return "production";
    if (name == "tag")
        return kind == TriggerKind::add_artifact_tag ? "reviewed" : "candidate";
    if (name == "run_id")
        return "run-7";
    if (name == "run_name")
        return "bright-sun-7";
    if (name == "run_user")
        return "ada";
    if (name == "run_status")
        return "Failed";
    if (name == "metric_name")
        return "loss";
    if (name == "metric_value")
        return "0.21";
    if (name == "metric_values")
        return json::parse("[0.3, 0.25, 0.21]");
    if (name == "metric_condition")
        return "avg(loss) over last 3 = 0.253 < 0.26";
    if (name == "metric_state")
        return "FIRING";
    FAIL("no expectation for " << name);
    return nullptr;
}

bool applies(const std::string& name, TriggerKind kind) {
    if (name.starts_with("artifact_"))
        return is_artifact(kind);
    if (name == "alias")
        return kind == TriggerKind::add_artifact_alias;
    if (name == "tag")
        return kind == TriggerKind::add_artifact_tag || kind == TriggerKind::remove_artifact_tag;
    if (name == "run_status")
        return kind == TriggerKind::run_state;
    if (name.starts_with("run_"))
        return !is_artifact(kind);
    if (name.starts_with("metric_"))
        return is_metric(kind);
    return true;
}

const std::vector<std::string> catalogue = {
    "event_type",
    "event_author",
    "entity_name",
    "project_name",
    "automation_name",
    "event_id",
    "event_time",
    "artifact_collection_name",
    "artifact_version",
    "artifact_version_string",
    "artifact_version_index",
    "artifact_metadata",
    "artifact_metadata.framework",
    "artifact_metadata.accuracy",
    "artifact_metadata.params",
    "artifact_metadata.missing",
    "alias",
    "tag",
    "run_id",
    "run_name",
    "run_user",
    "run_status",
    "metric_name",
    "metric_value",
    "metric_values",
    "metric_condition",
    "metric_state",
};

Template compile_json(std::string_view source, TriggerKind kind = TriggerKind::add_artifact_alias) {
    return Template::compile(source, {.trigger = kind, .field = "action.payload"});
}

/// The Error `compile` throws for `source`; fails the test when it compiles.
Error compile_error(std::string_view source, TemplateRules rules) {
    try {
        Template::compile(source, rules);
    } catch (const Error& e) {
        return e;
    }
    FAIL("compiled: " << source);
    return Error(errc::invalid_argument, "", "");
}

Error compile_error(std::string_view source) {
    return compile_error(source, {.trigger = TriggerKind::add_artifact_alias,
                                  .secret_exists = [](std::string_view) { return false; },
                                  .field = "action.payload"});
}

json::value render_json(const Template& t, const Firing& f) {
    return json::parse(t.render_masked(f));
}

}  // namespace

TEST_CASE("every variable renders on the trigger kinds it applies to", "[templates]") {
    for (TriggerKind kind : all_triggers) {
        const Firing firing = firing_for(kind);
        for (const std::string& name : catalogue) {
            INFO(to_string(kind) << " ${" << name << "}");
            const std::string source = R"({"v": "${)" + name + R"(}"})";
            if (!applies(name, kind)) {
                const Error e = compile_error(source, {.trigger = kind, .field = "action.payload"});
                CHECK(e.code() == errc::invalid_argument);
                CHECK(e.field() == "action.payload");
                CHECK_THAT(e.reason(), Catch::Contains("${" + name + "}") &&
                                           Catch::Contains("can never apply to " +
                                                           std::string(to_string(kind))) &&
                                           Catch::Contains("offset 7"));
                continue;
            }
            const Template t = Template::compile(source, {.trigger = kind});
            CHECK(render_json(t, firing).at("v") == expected_value(name, kind));
        }
    }
}

TEST_CASE("a resolved firing renders metric_state RESOLVED", "[templates]") {
    Firing firing = firing_for(TriggerKind::run_metric_threshold);
    firing.metric->resolved = true;
    firing.metric->metric_condition = "resolved: avg(loss) over last 3 = 0.31, no longer < 0.3";
    const Template t =
        Template::compile(R"({"state": "${metric_state}", "c": "${metric_condition}"})",
                          {.trigger = TriggerKind::run_metric_threshold});
    const json::value v = render_json(t, firing);
    CHECK(v.at("state") == "RESOLVED");
    CHECK(v.at("c") == "resolved: avg(loss) over last 3 = 0.31, no longer < 0.3");
}

TEST_CASE("a variable embedded in a longer string renders as text", "[templates]") {
    const Template t = compile_json(
        R"J({"s": "${artifact_version_string} by ${event_author} (#${artifact_version_index})",
            "m": "meta=${artifact_metadata.params}", "n": "${artifact_metadata.accuracy}!"})J");
    const json::value v = render_json(t, firing_for(TriggerKind::add_artifact_alias));
    CHECK(v.at("s") == "acme/model-registry/classifier:production by grace (#3)");
    CHECK(v.at("m") == R"(meta={"lr":0.01,"layers":[64,32]})");
    CHECK(v.at("n") == "0.93!");
}

TEST_CASE("literal JSON survives compilation unchanged in meaning", "[templates]") {
    const std::string source =
        R"({"a": [1, -2.5e3, 0, true, false, null, {"b": "\u00e9\t\"x\"\\ \ud83d\ude00 /"}],
            "e": {}, "f": [], "money": "$5 ${alias} $"})";
    const json::value rendered =
        render_json(compile_json(source), firing_for(TriggerKind::add_artifact_alias));
    json::value expected = json::parse(source);
    expected.as_object()["money"] = "$5 production $";
    CHECK(rendered == expected);
}

TEST_CASE("a variable that does not apply to the event renders as an empty string", "[templates]") {
    // Compiled for alias triggers, rendered for a run event (e.g. an automation changed while
    // a firing waited): the artifact variables have nothing to show.
    const Template t = compile_json(R"({"a": "${alias}", "v": "${artifact_version_string}",
                                        "m": "${artifact_metadata}", "k": "x${artifact_metadata.k}y"})");
    const json::value v = render_json(t, firing_for(TriggerKind::run_state));
    CHECK(v == json::parse(R"({"a": "", "v": "", "m": "", "k": "xy"})"));

    Firing no_metric = firing_for(TriggerKind::run_metric_threshold);
    no_metric.metric.reset();
    const Template m = compile_json(R"({"n": "${metric_name}", "vs": "${metric_values}"})",
                                    TriggerKind::run_metric_threshold);
    CHECK(render_json(m, no_metric) == json::parse(R"({"n": "", "vs": ""})"));
}

TEST_CASE("structured values replace a whole-string variable", "[templates]") {
    const Template t = compile_json(R"({"meta": "${artifact_metadata}",
                                        "params": "${artifact_metadata.params}",
                                        "layers": "${artifact_metadata.params}",
                                        "scalar": "${artifact_metadata.framework}"})");
    const json::value v = render_json(t, firing_for(TriggerKind::add_artifact_alias));
    CHECK(v.at("meta") == sample_version().metadata);
    CHECK(v.at("params").at("layers") == json::parse("[64, 32]"));
    CHECK(v.at("scalar") == "torch");

    const Template m =
        compile_json(R"({"values": "${metric_values}", "text": "${metric_values} !"})",
                     TriggerKind::run_metric_zscore);
    const json::value mv = render_json(m, firing_for(TriggerKind::run_metric_zscore));
    CHECK(mv.at("values") == json::parse("[0.3, 0.25, 0.21]"));
    CHECK(mv.at("text") == "[0.3,0.25,0.21] !");
}

TEST_CASE("event data cannot break the JSON or inject keys", "[templates]") {
    const std::vector<std::pair<std::string, std::string>> hostile = {
        {R"(a","admin":true,"x":")", R"(a","admin":true,"x":")"},
        {R"(quote " and backslash \ and \")", R"(quote " and backslash \ and \")"},
        {"line\nbreak\ttab\r\x01\x1f\x7f end", "line\nbreak\ttab\r\x01\x1f\x7f end"},
        {"bad \xff\xfe bytes", "bad \xEF\xBF\xBD\xEF\xBF\xBD bytes"},
        {"cut \xe2\x82", "cut \xEF\xBF\xBD"},
        {"overlong \xc0\xaf", "overlong \xEF\xBF\xBD\xEF\xBF\xBD"},
        {"surrogate \xed\xa0\x80!", "surrogate \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD!"},
        {"fine \xc3\xa9 \xf0\x9f\x98\x80", "fine \xc3\xa9 \xf0\x9f\x98\x80"},
        {"}${event_author}{", "}${event_author}{"},
    };
    const Template t = compile_json(
        R"({"author": "${event_author}", "embedded": "<${event_author}>", "alias": "${alias}"})");
    for (const auto& [input, expected] : hostile) {
        Firing f = firing_for(TriggerKind::add_artifact_alias);
        f.event.author = input;
        std::get<AliasAdded>(f.event.body).alias = input;
        const std::string text = t.render_masked(f);
        INFO(text);
        boost::system::error_code ec;
        const json::value v = json::parse(text, ec);  // also rejects invalid UTF-8
        REQUIRE(!ec);
        CHECK(v.as_object().size() == 3);
        CHECK(v.at("author") == json::string(expected));
        CHECK(v.at("embedded") == json::string("<" + expected + ">"));
        CHECK(v.at("alias") == json::string(expected));
    }
}

TEST_CASE("random event bytes always render to valid JSON with the template's keys",
          "[templates]") {
    std::mt19937 random(20261122);  // fixed: a failure reproduces
    const auto random_bytes = [&] {
        std::string s(random() % 24, '\0');
        for (char& c : s)
            c = static_cast<char>(random() % 256);
        return s;
    };
    const Template t = compile_json(
        R"({"author": "${event_author}", "mixed": "a${alias}b${artifact_metadata.k}c",
            "meta": "${artifact_metadata}", "key": "${artifact_metadata.k}",
            "version": "${artifact_version_string}"})");
    for (int i = 0; i < 2000; ++i) {
        Firing f = firing_for(TriggerKind::add_artifact_alias);
        f.event.author = random_bytes();
        auto& body = std::get<AliasAdded>(f.event.body);
        body.alias = random_bytes();
        body.version.collection = random_bytes();
        body.version.metadata =
            json::object{{random_bytes(), random_bytes()}, {"k", json::array{random_bytes(), 1}}};
        const std::string text = t.render_masked(f);
        boost::system::error_code ec;
        const json::value v = json::parse(text, ec);
        INFO(i);
        REQUIRE(!ec);
        CHECK(v.as_object().size() == 5);
        CHECK(v.at("key").is_array());
    }
}

TEST_CASE("hostile metadata keys and values stay inside their JSON strings", "[templates]") {
    Firing f = firing_for(TriggerKind::create_artifact);
    auto& metadata = std::get<ArtifactCreated>(f.event.body).version.metadata;
    metadata = json::object{};
    metadata[R"(k"ey)"] = "v\"al\\ue\n\xff";
    metadata["nested"] = json::object{{"\x01", json::array{"\"", 1.5, nullptr}}};
    const Template t = compile_json(
        R"({"all": "${artifact_metadata}", "one": "${artifact_metadata.k\"ey}", "x": "[${artifact_metadata.nested}]"})",
        TriggerKind::create_artifact);
    const std::string text = t.render_masked(f);
    boost::system::error_code ec;
    const json::value v = json::parse(text, ec);
    REQUIRE(!ec);
    CHECK(v.as_object().size() == 3);
    CHECK(v.at("all").at(R"(k"ey)") == "v\"al\\ue\n\xEF\xBF\xBD");
    CHECK(v.at("all").at("nested").at("\x01").as_array().size() == 3);
    CHECK(v.at("one") == "v\"al\\ue\n\xEF\xBF\xBD");
    CHECK(v.at("x") == R"([{"\u0001":["\"",1.5,null]}])");
}

TEST_CASE("text templates keep text and repair invalid UTF-8", "[templates]") {
    const Template t = Template::compile(
        "*${run_name}* entered ${run_status}\nby \"${event_author}\" ${ACCESS_TOKEN}",
        {.trigger = TriggerKind::run_state, .format = TemplateFormat::text, .access_token = true});
    Firing f = firing_for(TriggerKind::run_state);
    f.event.author = "a\xff\"b";
    CHECK(t.render_masked(f) == "*bright-sun-7* entered Failed\nby \"a\xEF\xBF\xBD\"b\" ********");
}

TEST_CASE("compile errors name the spot", "[templates]") {
    struct Case {
        std::string source;
        errc code;
        std::string says;
    };
    const std::vector<Case> cases = {
        {R"({"a": })", errc::invalid_json, "line 1, column 7 (offset 6): expected a value"},
        {"{\"a\": 1,\n \"b\" 2}", errc::invalid_json, "line 2, column 6 (offset 14)"},
        {R"({"a": 1,})", errc::invalid_json, "expected a string key"},
        {R"({"a": "x)", errc::invalid_json, "unterminated string"},
        {R"({"a": 01})", errc::invalid_json, "expected ',' or '}'"},
        {R"({"a": 1} x)", errc::invalid_json, "unexpected text after the JSON document"},
        {R"([1, 2])", errc::invalid_json, "must be a JSON object"},
        {"", errc::invalid_json, "the template is empty"},
        {R"({"a": 1, "a": 2})", errc::invalid_json, "offset 9): duplicate key"},
        {R"({"a": "\q"})", errc::invalid_json, "invalid escape"},
        {R"({"a": "\ud800"})", errc::invalid_json, "high surrogate without its low surrogate"},
        {"{\"a\": \"tab\tinside\"}", errc::invalid_json, "control character"},
        {"{\"a\": \"\xff\"}", errc::invalid_json, "invalid UTF-8"},
        {R"({"a": tru})", errc::invalid_json, "expected a value"},
        {std::string(70, '[') + std::string(70, ']'), errc::invalid_json, "must be a JSON object"},
        {"{\"a\":" + std::string(70, '[') + std::string(70, ']') + "}", errc::invalid_json,
         "nested deeper than 64 levels"},
        {R"({"${alias}": 1})", errc::invalid_argument,
         "offset 2): variables are not allowed in object keys"},
        {R"({"a": "${aliass}"})", errc::invalid_argument,
         "offset 7): ${aliass} is neither a template variable nor a secret of the entity"},
        {R"({"a": "x ${alias"})", errc::invalid_argument, "offset 9): \"${\" is not closed"},
        {R"({"a": "${foo-bar}"})", errc::invalid_argument, "${foo-bar} is not a variable name"},
        {R"({"a": "${}"})", errc::invalid_argument, "${} is not a variable name"},
        {R"({"a": "${artifact_metadata.}"})", errc::invalid_argument, "is not a variable name"},
        {R"({"a": "${run_status}"})", errc::invalid_argument,
         "${run_status} can never apply to ADD_ARTIFACT_ALIAS events"},
        {R"({"a": "${ACCESS_TOKEN}"})", errc::invalid_argument,
         "only available in a webhook payload whose integration has an access token"},
        {R"({"a": "${GH_TOKEN}"})", errc::invalid_argument,
         "${GH_TOKEN} is neither a template variable nor a secret of the entity"},
        {R"({"a": "\u0024{alias"})", errc::invalid_argument, "offset 7): \"${\" is not closed"},
    };
    for (const Case& c : cases) {
        INFO(c.source);
        const Error e = compile_error(c.source);
        CHECK(e.code() == c.code);
        CHECK(e.field() == "action.payload");
        CHECK_THAT(e.reason(), Catch::Contains(c.says));
    }
}

TEST_CASE("the compiler accepts exactly the JSON objects boost::json accepts", "[templates]") {
    const std::vector<std::string> inputs = {
        R"({})",
        R"({"a":1})",
        R"({"a":-0.0e+1})",
        R"({"a":1.})",
        R"({"a":.5})",
        R"({"a":+1})",
        R"({"a":1e})",
        R"({"a":"\u00"})",
        R"({"a":[1,]})",
        R"({"a":[,1]})",
        R"({"a":{"b":[]}})",
        R"( { "a" : [ ] } )",
        R"({"a":nul})",
        R"({"a":"x"}})",
        R"({'a':1})",
        R"({"a":"\/"})",
        R"({"a":-})",
        R"({"a":1E5,"b":2})",
        R"({"a":1e400})",
        R"({"a":4.5e388888888888})",
        R"({"a":"\uDBFF\uDFFF"})",
        "{\"a\":\"\xf4\x90\x80\x80\"}",
        "{\"a\":\"\xe0\x80\x80\"}",
        "{\"a\"\n:\r\t1}",
    };
    for (const std::string& input : inputs) {
        INFO(input);
        boost::system::error_code ec;
        json::parse(input, ec);
        bool compiled = true;
        try {
            compile_json(input);
        } catch (const Error&) {
            compiled = false;
        }
        CHECK(compiled == !ec);
    }
}

TEST_CASE("secrets resolve at render time and are masked otherwise", "[templates][secrets]") {
    MemorySecretStore store;
    store.put("acme", "GH_TOKEN", {.value = SecretValue("tok\"en\\1")});
    store.put("acme", "DEPLOY_KEY", {.value = SecretValue("k-2")});
    const Template t = Template::compile(
        R"({"auth": "${ACCESS_TOKEN}", "gh": "Bearer ${GH_TOKEN}", "again": "${GH_TOKEN}"})",
        {.trigger = TriggerKind::add_artifact_alias,
         .access_token = true,
         .secret_exists = [&](std::string_view n) { return store.contains("acme", n); }});
    CHECK(t.secrets() == std::vector<std::string>{"GH_TOKEN"});
    CHECK(t.uses_access_token());
    CHECK(t.references_secrets());

    const Firing f = firing_for(TriggerKind::add_artifact_alias);
    SecretResolver resolver{store, "acme", Timestamp{}, "DEPLOY_KEY"};
    const json::value sent = json::parse(t.render(f, resolver));
    CHECK(sent ==
          json::parse(R"({"auth": "k-2", "gh": "Bearer tok\"en\\1", "again": "tok\"en\\1"})"));
    CHECK(render_json(t, f) ==
          json::parse(R"({"auth": "********", "gh": "Bearer ********", "again": "********"})"));

    const std::string echoed = "you sent " + t.render(f, resolver);
    CHECK(resolver.redact(echoed) ==
          R"(you sent {"auth":"********","gh":"Bearer ********","again":"********"})");
}

TEST_CASE("a secret deleted after compilation fails the render without its value",
          "[templates][secrets]") {
    MemorySecretStore store;
    const Template t = compile_json(R"({"k": "${GONE}"})");
    SecretResolver resolver{store, "acme", Timestamp{}};
    try {
        t.render(firing_for(TriggerKind::add_artifact_alias), resolver);
        FAIL("rendered");
    } catch (const Error& e) {
        CHECK(e.code() == errc::not_found);
        CHECK(e.reason() == "entity 'acme' has no secret 'GONE'");
    }
}

TEST_CASE("rendering appends and reuses the output buffer", "[templates]") {
    const Template t = compile_json(R"({"a": "${alias}"})");
    std::string out = "prefix:";
    t.render_masked(firing_for(TriggerKind::add_artifact_alias), out);
    CHECK(out == R"(prefix:{"a":"production"})");
    CHECK(Template{}.render_masked(firing_for(TriggerKind::add_artifact_alias)).empty());
}

TEST_CASE("the seeds' GitHub repository_dispatch payload", "[templates][seeds]") {
    const Template t = compile_json(test::github_repository_dispatch, TriggerKind::link_artifact);
    CHECK(render_json(t, firing_for(TriggerKind::link_artifact)) == json::parse(R"({
        "event_type": "BUILD_AND_DEPLOY",
        "client_payload": {
            "event_author": "grace",
            "artifact_version": "wandb-artifact://_id/QXJ0aWZhY3Q6NTE3ODg5ODg7",
            "artifact_version_string": "acme/model-registry/classifier:v3",
            "artifact_collection_name": "classifier",
            "project_name": "model-registry",
            "entity_name": "acme"}})"));
}

TEST_CASE("the seeds' Microsoft Teams MessageCard payload", "[templates][seeds]") {
    const Template t = compile_json(test::teams_message_card);
    CHECK(render_json(t, firing_for(TriggerKind::add_artifact_alias)) == json::parse(R"({
        "@type": "MessageCard", "@context": "http://schema.org/extensions",
        "summary": "New Notification",
        "sections": [{"activityTitle": "Notification from WANDB",
                      "text": "This is an example message sent via Teams webhook.",
                      "facts": [{"name": "Author", "value": "grace"},
                                {"name": "Event Type", "value": "ADD_ARTIFACT_ALIAS"}],
                      "markdown": true}]})"));
}

TEST_CASE("the seeds' Slack blocks payload", "[templates][seeds]") {
    const Template t = compile_json(test::slack_blocks);
    CHECK(render_json(t, firing_for(TriggerKind::add_artifact_alias)) == json::parse(R"({
        "text": "New alert from WANDB!",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn",
                                         "text": "Registry event: ADD_ARTIFACT_ALIAS"}},
            {"type": "section", "text": {"type": "mrkdwn",
                "text": "New version: acme/model-registry/classifier:production"}},
            {"type": "divider"},
            {"type": "section", "text": {"type": "mrkdwn", "text": "Author: grace"}}]})"));
}

TEST_CASE("without a payload, a webhook sends every variable that applies, as JSON",
          "[templates]") {
    for (const TriggerKind kind : all_triggers) {
        INFO(to_string(kind));
        const detail::ActionTemplates t =
            detail::compile_action_templates(action::Webhook{.integration = "deploy"}, kind);
        CHECK_FALSE(t.payload.references_secrets());
        const json::value body = json::parse(t.payload.render_masked(firing_for(kind)));
        json::object expected;
        for (const std::string& name : catalogue)
            if (name.find('.') == std::string::npos && applies(name, kind))
                expected[name] = expected_value(name, kind);
        CHECK(body == expected);
    }
    // Spelled out for one kind of each family, so the list above is not the only witness.
    const auto keys_of = [](TriggerKind kind) {
        std::vector<std::string> keys;
        const json::value body =
            json::parse(detail::compile_action_templates(action::Webhook{}, kind)
                            .payload.render_masked(firing_for(kind)));
        for (const auto& member : body.as_object())
            keys.emplace_back(member.key());
        return keys;
    };
    CHECK(keys_of(TriggerKind::add_artifact_tag) ==
          std::vector<std::string>{
              "event_type", "event_author", "entity_name", "project_name", "automation_name",
              "event_id", "event_time", "artifact_collection_name", "artifact_version",
              "artifact_version_string", "artifact_version_index", "artifact_metadata", "tag"});
    CHECK(keys_of(TriggerKind::run_state) ==
          std::vector<std::string>{"event_type", "event_author", "entity_name", "project_name",
                                   "automation_name", "event_id", "event_time", "run_id",
                                   "run_name", "run_user", "run_status"});
    CHECK(keys_of(TriggerKind::run_metric_zscore) ==
          std::vector<std::string>{"event_type", "event_author", "entity_name", "project_name",
                                   "automation_name", "event_id", "event_time", "run_id",
                                   "run_name", "run_user", "metric_name", "metric_value",
                                   "metric_values", "metric_condition", "metric_state"});
}

TEST_CASE("text templates refuse secrets, naming the spot and why", "[templates]") {
    const Error e =
        compile_error("deployed by ${GH_TOKEN}", {.trigger = TriggerKind::add_artifact_alias,
                                                  .format = TemplateFormat::text,
                                                  .field = "action.message"});
    CHECK(e.code() == errc::invalid_argument);
    CHECK(e.field() == "action.message");
    CHECK_THAT(e.reason(), Catch::Contains("offset 12): ${GH_TOKEN} is not a template variable"));
    CHECK_THAT(e.reason(), Catch::Contains("would post them to the channel"));
    // The same name is a secret in a JSON template.
    CHECK(Template::compile(R"({"t": "${GH_TOKEN}"})", {.trigger = TriggerKind::add_artifact_alias})
              .secrets() == std::vector<std::string>{"GH_TOKEN"});
}
