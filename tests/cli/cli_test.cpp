// The `herald` command-line tool, driven as a real process (path in HERALD_CLI) against a real
// SQLite file and the loopback test server (support/test_server.hpp, started by each test).
#include "sqlite/temp_dir.hpp"
#include "support/process.hpp"
#include "support/prometheus_text.hpp"
#include "support/test_server.hpp"

#include <herald/automation_json.hpp>
#include <herald/engine.hpp>
#include <herald/event_json.hpp>
#include <herald/sqlite/database.hpp>

#include <boost/json/parse.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

namespace {

using herald::test::ProcessResult;

constexpr const char* canary = "canary-7f3a9c1e-do-not-print";

// A database in a scratch directory and the tool run on it. Every output is kept, so a test can
// check at the end that no secret value was ever printed.
struct Cli {
    Cli() {
        ::setenv("HERALD_SECRET_KEY",
                 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", 1);
    }

    // The tool's command line for `args` on this database.
    std::vector<std::string> argv(std::vector<std::string> args) const {
        args.insert(args.begin(), {HERALD_CLI, "--db", (dir / "herald.db").string(),
                                   "--allow-subnet", "127.0.0.0/8"});
        return args;
    }
    ProcessResult run(std::vector<std::string> args, const std::string& input = "") {
        ProcessResult r = herald::test::run_process(argv(std::move(args)), input, dir.path());
        printed += r.out + r.err;
        return r;
    }
    ProcessResult ok(std::vector<std::string> args, const std::string& input = "") {
        ProcessResult r = run(std::move(args), input);
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        return r;
    }
    std::string file(const std::string& name, const std::string& text) {
        std::ofstream(dir / name, std::ios::trunc) << text;
        return (dir / name).string();
    }
    boost::json::value json(std::vector<std::string> args) {
        args.push_back("--json");
        return boost::json::parse(ok(std::move(args)).out);
    }
    // A signing secret, a webhook integration to `url` and an automation that calls it on alias
    // `production` in acme/model-registry.
    void set_up_webhook(const std::string& url) {
        ok({"secrets", "put", "--entity", "acme", "SIGNING_KEY"}, std::string(canary) + "\n");
        ok({"integrations", "apply", file("i.json", R"({"type": "WEBHOOK", "entity": "acme",
            "name": "deploy", "url": ")" + url + R"(", "signing_secret": "SIGNING_KEY"})")});
        ok({"automations", "apply", file("a.json", automations)});
    }

    herald::test::TempDir dir;
    std::string printed;
    static constexpr const char* automations = R"([
      {"name": "deploy-production",
       "scope": {"type": "REGISTRY", "entity": "acme", "registry": "model-registry"},
       "trigger": {"type": "ADD_ARTIFACT_ALIAS", "alias": "production"},
       "action": {"type": "WEBHOOK", "integration": "deploy",
                  "payload": {"version": "${artifact_version_string}"}}},
      {"name": "failed-runs", "enabled": false,
       "scope": {"type": "PROJECT", "entity": "acme", "project": "mnist"},
       "trigger": {"type": "RUN_STATE", "states": ["FAILED"]},
       "action": {"type": "NO_ACTION"}}])";
};

const std::string alias_event =
    R"({"type": "ALIAS_ADDED", "author": "alice", "entity": "acme", "project": "model-registry",)"
    R"( "alias": "production", "version": {"collection": "classifier", "index": 4}})";

// An alias event with its own id, so a receipt names the line it came from.
std::string alias_event_with_id(const std::string& id) {
    return R"({"type": "ALIAS_ADDED", "id": ")" + id +
           R"(", "entity": "acme", "project": "model-registry", "alias": "production",)"
           R"( "version": {"collection": "classifier", "index": 4}})";
}

// Each line of `text` parsed as JSON.
std::vector<boost::json::value> json_lines(const std::string& text) {
    std::vector<boost::json::value> out;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);)
        out.push_back(boost::json::parse(line));
    return out;
}

}  // namespace

TEST_CASE("herald: every command has --help, usage errors exit 2", "[cli]") {
    Cli cli;
    for (const char* command : {"automations apply",
                                "automations export",
                                "automations list",
                                "automations summary",
                                "automations enable",
                                "automations disable",
                                "automations delete",
                                "integrations apply",
                                "integrations list",
                                "integrations delete",
                                "secrets put",
                                "secrets rotate",
                                "secrets delete",
                                "secrets list",
                                "secrets rotate-key",
                                "webhook test",
                                "slack test",
                                "history",
                                "dead",
                                "replay",
                                "publish",
                                "dry-run",
                                "deliver",
                                "stats",
                                "prune"}) {
        std::vector<std::string> args;
        std::istringstream words(command);
        for (std::string w; words >> w;)
            args.push_back(w);
        args.push_back("--help");
        const ProcessResult r = cli.run(args);
        INFO(command);
        CHECK(r.exit_code == 0);
        CHECK(r.out.find(std::string("herald --db FILE [options] ") + command) !=
              std::string::npos);
    }
    CHECK(cli.run({"--help"}).out.find("secrets rotate-key") != std::string::npos);
    const ProcessResult unknown = cli.run({"automations", "frobnicate"});
    CHECK(unknown.exit_code == 2);
    CHECK(unknown.err.find("unknown command 'automations frobnicate'") != std::string::npos);
    CHECK(cli.run({"history", "--bogus"}).err.find("unknown option --bogus") != std::string::npos);
    CHECK(cli.run({"history", "--since", "yesterday"}).exit_code == 2);
}

TEST_CASE("herald: secrets are read from stdin or a file and never printed", "[cli]") {
    Cli cli;
    cli.ok({"secrets", "put", "--entity", "acme", "GH_TOKEN"}, std::string(canary) + "\n");
    cli.ok({"secrets", "put", "--entity", "acme", "OTHER", "--file",
            cli.file("value", std::string(canary) + "-2")});
    CHECK(cli.ok({"secrets", "list", "--entity", "acme"}).out == "GH_TOKEN\nOTHER\n");
    cli.ok({"secrets", "rotate", "--entity", "acme", "GH_TOKEN", "--keep-previous", "1h"},
           std::string(canary) + "-3");
    CHECK(cli.ok({"secrets", "rotate-key"}).out.find("re-encrypted 0") != std::string::npos);
    cli.ok({"secrets", "delete", "--entity", "acme", "OTHER"});
    CHECK(cli.json({"secrets", "list", "--entity", "acme"}) ==
          boost::json::parse(R"(["GH_TOKEN"])"));

    SECTION("a value on the command line is refused") {
        const ProcessResult r = cli.run({"secrets", "put", "--entity", "acme", "X", canary});
        CHECK(r.exit_code == 2);
    }
    SECTION("errors name the field") {
        const ProcessResult dup = cli.run({"secrets", "put", "--entity", "acme", "GH_TOKEN"}, "v");
        CHECK(dup.exit_code == 1);
        CHECK(dup.err.find("already") != std::string::npos);
        const ProcessResult bad = cli.run({"secrets", "put", "--entity", "acme", "bad-name"}, "v");
        CHECK(bad.exit_code == 1);
        CHECK(bad.err.find("name") != std::string::npos);
        CHECK(cli.run({"secrets", "list"}).err.find("--entity is required") != std::string::npos);
    }
    SECTION("no key, no secrets") {
        ::unsetenv("HERALD_SECRET_KEY");
        const ProcessResult r = cli.run({"secrets", "list", "--entity", "acme"});
        CHECK(r.exit_code == 1);
        CHECK(r.err.find("key") != std::string::npos);
    }
    CHECK(cli.printed.find(canary) == std::string::npos);
    std::ifstream db(cli.dir / "herald.db", std::ios::binary);
    const std::string raw{std::istreambuf_iterator<char>(db), std::istreambuf_iterator<char>()};
    CHECK(raw.find(canary) == std::string::npos);
}

TEST_CASE("herald: integrations apply, list, delete", "[cli]") {
    Cli cli;
    cli.ok({"secrets", "put", "--entity", "acme", "SIGNING_KEY"}, canary);
    const std::string spec =
        R"([{"type": "WEBHOOK", "entity": "acme", "name": "deploy", "url": "https://ci.example.com/h",)"
        R"( "signature": "GITHUB", "signing_secret": "SIGNING_KEY", "headers": {"X-Env": "prod"}},)"
        R"( {"type": "SLACK", "entity": "acme", "name": "alerts", "webhook_url_secret": "SIGNING_KEY"}])";
    CHECK(cli.ok({"integrations", "apply", cli.file("i.json", spec)}).out ==
          "created acme/deploy\ncreated acme/alerts\n");
    CHECK(cli.ok({"integrations", "apply", cli.file("i.json", spec)}).out ==
          "updated acme/deploy\nupdated acme/alerts\n");
    const boost::json::value listed = cli.json({"integrations", "list", "--entity", "acme"});
    CHECK(listed.as_array().size() == 2);
    CHECK(listed.as_array()[1].at("headers").at("X-Env") == "prod");
    CHECK(
        cli.ok({"integrations", "list", "--entity", "acme"}).out.find("https://ci.example.com/h") !=
        std::string::npos);

    const ProcessResult missing =
        cli.run({"integrations", "apply",
                 cli.file("bad.json", R"([{"type": "WEBHOOK", "entity": "acme", "name": "x"}])")});
    CHECK(missing.exit_code == 1);
    CHECK(missing.err.find("[0].url: is required") != std::string::npos);
    const ProcessResult unknown_secret = cli.run(
        {"integrations", "apply",
         cli.file("bad.json", R"({"type": "WEBHOOK", "entity": "acme", "name": "x",)"
                              R"( "url": "https://a.example.com", "signing_secret": "NOPE"})")});
    CHECK(unknown_secret.exit_code == 1);
    CHECK(unknown_secret.err.find("[0].") != std::string::npos);
    CHECK(unknown_secret.err.find("NOPE") != std::string::npos);

    cli.ok({"integrations", "delete", "--entity", "acme", "alerts"});
    CHECK(cli.json({"integrations", "list", "--entity", "acme"}).as_array().size() == 1);
    CHECK(cli.run({"integrations", "delete", "--entity", "acme", "alerts"}).exit_code == 1);
    CHECK(cli.printed.find(canary) == std::string::npos);
}

TEST_CASE("herald: automations apply, export round-trip, enable, disable, delete", "[cli]") {
    Cli cli;
    herald::test::TestServer server;
    cli.set_up_webhook(server.url());
    const std::string exported = cli.ok({"automations", "export"}).out;
    const auto original = herald::automations_from_json(Cli::automations);
    auto round_tripped = herald::automations_from_json(exported);
    REQUIRE(round_tripped.size() == 2);
    for (std::size_t i = 0; i < 2; ++i) {
        // export sorts by scope; both lists hold the same automations apart from stored fields
        const auto& back = *std::find_if(round_tripped.begin(), round_tripped.end(),
                                         [&](const auto& a) { return a.name == original[i].name; });
        CHECK(herald::to_json(original[i]) ==
              herald::to_json(herald::Automation{.name = back.name,
                                                 .description = back.description,
                                                 .enabled = back.enabled,
                                                 .scope = back.scope,
                                                 .trigger = back.trigger,
                                                 .action = back.action}));
    }
    // Applying the export changes nothing: the same ids are updated.
    const std::string again = cli.ok({"automations", "apply", cli.file("e.json", exported)}).out;
    CHECK(again.find("created") == std::string::npos);
    std::vector<std::string> ids, ids_again;
    for (const auto& a : round_tripped)
        ids.push_back(a.id);
    for (const auto& a : herald::automations_from_json(cli.ok({"automations", "export"}).out))
        ids_again.push_back(a.id);
    CHECK(ids_again == ids);

    const std::string id =
        std::find_if(round_tripped.begin(), round_tripped.end(), [](const auto& a) {
            return a.name == "deploy-production";
        })->id;
    CHECK(cli.json({"automations", "disable", id}) ==
          boost::json::parse(R"({"id": ")" + id +
                             R"(", "name": "deploy-production", "enabled": false})"));
    CHECK(cli.ok({"automations", "list", "--entity", "acme"}).out.find("yes") == std::string::npos);
    cli.ok({"automations", "enable", id});
    CHECK(cli.ok({"automations", "list", "--entity", "acme"}).out.find("yes") != std::string::npos);
    cli.ok({"automations", "delete", id});
    CHECK(cli.json({"automations", "list"}).as_array().size() == 1);
    const ProcessResult gone = cli.run({"automations", "enable", id});
    CHECK(gone.exit_code == 1);
    CHECK(gone.err.find("id: no automation") != std::string::npos);

    const ProcessResult invalid = cli.run(
        {"automations", "apply",
         cli.file(
             "bad.json",
             R"({"name": "x", "scope": {"type": "ENTITY", "entity": "acme"},)"
             R"( "trigger": {"type": "ADD_ARTIFACT_ALIAS"}, "action": {"type": "NO_ACTION"}})")});
    CHECK(invalid.exit_code == 1);
    CHECK(invalid.err.find("trigger.alias: is required") != std::string::npos);
    CHECK(cli.run({"automations", "apply", (cli.dir / "missing.json").string()}).exit_code == 1);
}

TEST_CASE("herald: an event published again under its id is delivered once", "[cli]") {
    Cli cli;
    herald::test::TestServer server;
    cli.set_up_webhook(server.url());
    const std::string event = alias_event_with_id("ev-retried") + "\n";
    const ProcessResult first = cli.ok({"publish", "--json"}, event + event);
    std::istringstream lines(first.out);
    std::vector<boost::json::value> printed;
    for (std::string line; std::getline(lines, line);)
        printed.push_back(boost::json::parse(line));
    REQUIRE(printed.size() == 2);
    CHECK(printed[0].at("duplicate") == false);
    CHECK(printed[1].at("duplicate") == true);
    const boost::json::value fired = printed[0].at("firings").as_array()[0].at("id");
    CHECK(printed[1].at("firings").as_array()[0].at("id") == fired);

    // A host retrying in a later process: still the first receipt, in text too.
    const ProcessResult retried = cli.ok({"publish"}, event);
    CHECK(retried.out == "published ev-retried: 1 firing(s), published before\n");
    cli.ok({"deliver"});
    REQUIRE(server.wait_for_requests(1));
    CHECK(cli.json({"history"}).as_array().size() == 1);
    CHECK(server.requests().size() == 1);
}

TEST_CASE("herald: publish delivers, history shows it, webhook test prints the response", "[cli]") {
    Cli cli;
    herald::test::TestServer server;
    cli.set_up_webhook(server.url());
    const ProcessResult published =
        cli.ok({"publish", "--deliver", "--json"}, alias_event + "\n\n" + alias_event + "\n");
    REQUIRE(server.wait_for_requests(2));
    // --json: one receipt per event, then what was delivered, each a JSON line.
    std::istringstream lines(published.out);
    std::vector<boost::json::value> printed;
    for (std::string line; std::getline(lines, line);)
        printed.push_back(boost::json::parse(line));
    REQUIRE(printed.size() == 3);
    CHECK(printed[0].at("firings").as_array().size() == 1);
    CHECK(printed[2].at("pending") == 0);
    CHECK(printed[2].at("delivered").as_array()[1].at("status") == "Finished");

    const boost::json::value history = cli.json({"history", "--status", "finished"});
    REQUIRE(history.as_array().size() == 2);
    std::set<std::string> recorded, received;
    for (const auto& f : history.as_array()) {
        recorded.insert(std::string(f.at("id").as_string()));
        CHECK(f.at("attempts").as_array()[0].at("status_code") == 200);
    }
    for (const auto& r : server.requests())
        received.insert(r.header("X-Herald-Delivery"));
    CHECK(recorded == received);
    CHECK(cli.json({"history", "--status", "dead"}).as_array().empty());
    CHECK(cli.json({"history", "--automation", "nope"}).as_array().empty());
    CHECK(cli.json({"history", "--entity", "acme", "--integration", "deploy", "--limit", "1"})
              .as_array()
              .size() == 1);
    CHECK(cli.json({"history", "--until", "2000-01-01T00:00:00Z"}).as_array().empty());
    // Paged in the database: the last id of one page asks for the next.
    const boost::json::value newest = cli.json({"history", "--entity", "acme", "--limit", "1"});
    REQUIRE(newest.as_array().size() == 1);
    const boost::json::value older =
        cli.json({"history", "--entity", "acme", "--project", "model-registry", "--before",
                  std::string(newest.as_array()[0].at("id").as_string())});
    REQUIRE(older.as_array().size() == 1);
    CHECK(older.as_array()[0].at("id") != newest.as_array()[0].at("id"));
    CHECK(cli.json({"history", "--project", "elsewhere"}).as_array().empty());
    CHECK(cli.ok({"history"}).out.find("Finished") != std::string::npos);

    const ProcessResult bad_line =
        cli.run({"publish"}, alias_event + "\n{\"type\": \"ALIAS_ADDED\"}\n");
    CHECK(bad_line.exit_code == 1);
    CHECK(bad_line.err.find("line 2: entity: is required") != std::string::npos);

    const ProcessResult tested = cli.ok({"webhook", "test", "--entity", "acme", "--integration",
                                         "deploy", "--payload", cli.file("p.json", R"({"x": 1})")});
    CHECK(tested.out.find("HTTP 200") != std::string::npos);
    CHECK(server.requests().back().body == R"({"x":1})");
    CHECK(!server.requests().back().header("X-Wandb-Signature").empty());
    CHECK(cli.printed.find(canary) == std::string::npos);
}

TEST_CASE("herald: automations summary shows the last execution and the firings by status",
          "[cli]") {
    Cli cli;
    herald::test::TestServer server;
    cli.set_up_webhook(server.url());
    const boost::json::value listed = cli.json({"automations", "list"});
    const auto it = std::find_if(listed.as_array().begin(), listed.as_array().end(),
                                 [](const auto& a) { return a.at("name") == "deploy-production"; });
    REQUIRE(it != listed.as_array().end());
    const std::string id(it->at("id").as_string());

    const boost::json::value never = cli.json({"automations", "summary", id});
    CHECK(never.at("name") == "deploy-production");
    CHECK(never.at("last_execution").is_null());
    CHECK(never.at("counts").at("pending") == 0);

    cli.ok({"publish", "--deliver"}, alias_event + "\n");  // finished
    const boost::json::value receipt =
        json_lines(cli.ok({"publish", "--json"}, alias_event + "\n").out).front();  // pending
    const std::string waiting(receipt.at("firings").as_array()[0].at("id").as_string());
    const boost::json::value summary = cli.json({"automations", "summary", id});
    CHECK(summary.at("last_execution").at("id").as_string() == waiting);
    CHECK(summary.at("last_execution").at("status") == "Pending");
    CHECK(summary.at("counts").at("pending") == 1);
    CHECK(summary.at("counts").at("finished") == 1);
    CHECK(summary.at("counts").at("dead") == 0);
    CHECK(summary.at("counts").as_object().size() == 5);

    const std::string text = cli.ok({"automations", "summary", id, "--window", "1h"}).out;
    CHECK(text.find("deploy-production (" + id + ")") != std::string::npos);
    CHECK(text.find("last execution: " + waiting + " at ") != std::string::npos);
    CHECK(text.find(", Pending: alias 'production' added") != std::string::npos);
    CHECK(text.find("Finished  1") != std::string::npos);
    CHECK(text.find("Pending   1") != std::string::npos);

    const ProcessResult too_short = cli.run({"automations", "summary", id, "--window", "10ms"});
    CHECK(too_short.exit_code == 2);
    CHECK(too_short.err.find("--window: expected at least 1s") != std::string::npos);
    const ProcessResult unknown = cli.run({"automations", "summary", "no-such-automation"});
    CHECK(unknown.exit_code == 1);
    CHECK(unknown.err.find("id: no automation with id 'no-such-automation'") != std::string::npos);
}

TEST_CASE("herald: commands that only read work beside an engine that holds the file", "[cli]") {
    Cli cli;
    herald::test::TestServer server;
    cli.set_up_webhook(server.url());
    cli.ok({"publish"}, alias_event + "\n");
    // From here on a host's engine holds the file, and records a firing of its own.
    auto held = herald::sqlite::open(cli.dir / "herald.db");
    herald::Engine engine({.storage = held});
    const auto receipt = engine.publish(herald::event_from_json(alias_event_with_id("by-engine")));
    REQUIRE(receipt.firings.size() == 1);

    const boost::json::value history = cli.json({"history"});
    REQUIRE(history.as_array().size() == 2);
    CHECK(history.as_array()[0].at("id").as_string() == receipt.firings[0].id);
    CHECK(cli.json({"stats"}).at("firings").at("pending") == 2);
    CHECK(cli.json({"dead"}).as_array().empty());
    const boost::json::value automations = cli.json({"automations", "list"});
    CHECK(automations.as_array().size() == 2);
    CHECK(cli.ok({"automations", "export"}).out.find("deploy-production") != std::string::npos);
    CHECK(cli.ok({"integrations", "list", "--entity", "acme"}).out.find("deploy") !=
          std::string::npos);
    CHECK(cli.ok({"secrets", "list", "--entity", "acme"}).out.find("SIGNING_KEY") !=
          std::string::npos);
    CHECK(cli.ok({"dry-run"}, alias_event + "\n").out.find("FIRES") != std::string::npos);
    CHECK(cli.ok({"history", "--help"}).out.find("works beside a running engine") !=
          std::string::npos);

    // A command that changes the file is refused, and says what to do.
    const ProcessResult refused = cli.run({"publish"}, alias_event + "\n");
    CHECK(refused.exit_code == 1);
    CHECK(refused.err.find("the database is already open") != std::string::npos);
    CHECK(refused.err.find("stop it to change the file") != std::string::npos);
    CHECK(cli.json({"history"}).as_array().size() == 2);
    CHECK(cli.printed.find(canary) == std::string::npos);
}

TEST_CASE("herald: slack test posts one Block Kit message and prints the answer", "[cli]") {
    Cli cli;
    herald::test::TestServer server;
    cli.ok({"secrets", "put", "--entity", "acme", "SLACK_BOT"}, std::string(canary) + "\n");
    cli.ok({"integrations", "apply", cli.file("s.json", R"({"type": "SLACK", "entity": "acme",
        "name": "alerts", "bot_token": "SLACK_BOT", "channel": "#ml",
        "api_base_url": ")" + server.url("/api") + R"("})")});
    const ProcessResult sent =
        cli.ok({"slack", "test", "--entity", "acme", "--integration", "alerts", "--title", "",
                "--message", "deploys from ${entity_name} <!channel>"});
    CHECK(sent.out.find("HTTP 200") != std::string::npos);
    REQUIRE(server.requests().size() == 1);
    const auto request = server.requests().back();
    CHECK(request.target == "/api/chat.postMessage");
    CHECK(request.header("Authorization") == "Bearer " + std::string(canary));
    const auto message = boost::json::parse(request.body);
    CHECK(message.at("channel") == "#ml");
    CHECK(message.at("blocks").at(0).at("text").at("text") == "deploys from acme &lt;!channel&gt;");

    // A secret in the message is refused before anything is sent, naming why.
    const ProcessResult secret = cli.run({"slack", "test", "--entity", "acme", "--integration",
                                          "alerts", "--message", "${SLACK_BOT}"});
    CHECK(secret.exit_code == 1);
    CHECK(secret.err.find("a chat message may not use secrets") != std::string::npos);
    CHECK(server.requests().size() == 1);
    // A webhook integration is not a Slack one.
    cli.set_up_webhook(server.url());
    const ProcessResult wrong =
        cli.run({"slack", "test", "--entity", "acme", "--integration", "deploy"});
    CHECK(wrong.exit_code == 1);
    CHECK(wrong.err.find("'deploy' is not a Slack integration") != std::string::npos);
    CHECK(cli.printed.find(canary) == std::string::npos);
}

TEST_CASE("herald: SSRF rules hold unless a host or subnet is allowed", "[cli]") {
    Cli cli;
    herald::test::TestServer server;
    cli.set_up_webhook(server.url());
    const ProcessResult refused =
        herald::test::run_process({HERALD_CLI, "--db", (cli.dir / "herald.db").string(), "webhook",
                                   "test", "--entity", "acme", "--integration", "deploy"},
                                  "", cli.dir.path());
    CHECK(refused.exit_code == 1);
    CHECK(refused.out.find("ssrf") != std::string::npos);
    CHECK(server.requests().empty());
}

TEST_CASE("herald: dead deliveries are listed and replayed with the same id", "[cli]") {
    Cli cli;
    herald::test::TestServer server{{.fault = herald::test::Fault::server_error}};
    cli.set_up_webhook(server.url());
    const ProcessResult published =
        cli.ok({"--retries", "0s,10ms", "publish", "--deliver"}, alias_event + "\n");
    const boost::json::value dead = cli.json({"dead"});
    REQUIRE(dead.as_array().size() == 1);
    const std::string id(dead.as_array()[0].at("id").as_string());
    CHECK(dead.as_array()[0].at("status") == "Dead");
    // Logged to stderr at the default level (warning): the failed attempt and the dead letter.
    CHECK(published.err.find("level=warning event=delivery.failed delivery=" + id) !=
          std::string::npos);
    CHECK(published.err.find("level=error event=delivery.dead delivery=" + id) !=
          std::string::npos);
    CHECK(cli.ok({"--log-level", "off", "--retries", "0s", "publish", "--deliver"},
                 alias_event + "\n")
              .err.empty());
    CHECK(cli.run({"--log-level", "loud", "dead"}).err.find("--log-level: expected debug") !=
          std::string::npos);

    // herald stats: what the database holds, as JSON and in the Prometheus text format.
    const boost::json::value stats = cli.json({"stats"});
    CHECK(stats.at("deliveries").at("dead") == 2);
    CHECK(stats.at("deliveries").at("pending") == 0);
    CHECK(stats.at("firings").at("dead") == 2);
    CHECK(stats.at("firings").at("finished") == 0);
    const auto exposed = herald::test::parse_exposition(cli.ok({"stats", "--prometheus"}).out);
    CHECK(exposed.value("herald_outbox_deliveries", {{"state", "dead"}}) == 2);
    CHECK(exposed.value("herald_firings", {{"status", "dead"}}) == 2);
    CHECK(exposed.families.at("herald_firings").type == "gauge");
    CHECK(cli.ok({"stats"}).out.find("firings     dead      2") != std::string::npos);

    server.set_fault(herald::test::Fault::ok);
    cli.ok({"replay", "--all-dead"});
    CHECK(cli.json({"dead"}).as_array().empty());
    CHECK(cli.json({"stats"}).at("firings").at("finished") == 2);
    auto requests = server.requests();
    REQUIRE(requests.size() == 5);
    std::erase_if(requests, [&](const auto& r) { return r.header("X-Herald-Delivery") != id; });
    REQUIRE(requests.size() == 3);
    for (const auto& r : requests)
        CHECK(r.header("X-Herald-Delivery") == id);
    CHECK(requests.back().header("X-Herald-Attempt") == "3");
    CHECK(cli.json({"history", "--status", "finished"}).as_array().size() == 2);
    CHECK(cli.run({"replay", "no-such-delivery"}).err.find("delivery: no delivery") !=
          std::string::npos);
}

TEST_CASE("herald: prune takes what the retention policy no longer keeps", "[cli]") {
    Cli cli;
    herald::test::TestServer server;
    cli.set_up_webhook(server.url());
    cli.ok({"publish", "--deliver"}, alias_event + "\n" + alias_event + "\n" + alias_event + "\n");
    REQUIRE(cli.json({"history", "--status", "finished"}).as_array().size() == 3);

    // The defaults keep 30 days: nothing goes.
    const boost::json::value none = cli.json({"prune"});
    CHECK(none.at("firings") == 0);
    CHECK(none.at("dead_letters") == 0);

    const boost::json::value bounded = cli.json({"prune", "--max-firings", "1"});
    CHECK(bounded.at("firings") == 2);
    CHECK(cli.json({"history"}).as_array().size() == 1);

    // The payload sent and the receiver's answer of the firing left, once older than --bodies.
    std::this_thread::sleep_for(std::chrono::milliseconds{1100});
    CHECK(cli.ok({"prune", "--bodies", "1s"}).out.find("expunged the bodies of 1 firings") !=
          std::string::npos);
    CHECK(cli.json({"prune", "--bodies", "1s"}).at("bodies") == 0);
    CHECK(cli.json({"history", "--status", "finished"}).as_array().size() == 1);

    const ProcessResult zero = cli.run({"prune", "--history", "0s"});
    CHECK(zero.exit_code == 2);
    CHECK(zero.err.find("--history: must be at least 1s") != std::string::npos);
    const ProcessResult batch = cli.run({"prune", "--batch", "0"});
    CHECK(batch.exit_code == 2);
    CHECK(batch.err.find("--batch: expected a whole number of at least 1, got '0'") !=
          std::string::npos);
    CHECK(cli.run({"prune", "--history", "soon"}).err.find("such as 500ms, 2s, 5m, 1h or 30d") !=
          std::string::npos);
}

TEST_CASE("herald: publish keeps many lines in flight and prints receipts in input order",
          "[cli][publish]") {
    Cli cli;
    herald::test::TestServer server;
    cli.set_up_webhook(server.url());
    constexpr int count = 300;
    std::string input;
    for (int i = 1; i <= count; ++i)
        input += alias_event_with_id("ev-" + std::to_string(i)) + "\n";
    const std::vector<boost::json::value> receipts =
        json_lines(cli.ok({"publish", "--json", "--window", "16"}, input).out);
    REQUIRE(receipts.size() == count);
    for (int i = 1; i <= count; ++i) {
        INFO(i);
        CHECK(receipts[i - 1].at("line") == i);
        CHECK(receipts[i - 1].at("event_id").as_string() == "ev-" + std::to_string(i));
        CHECK(receipts[i - 1].at("firings").as_array().size() == 1);
    }
    CHECK(cli.json({"history", "--limit", "1000"}).as_array().size() == count);
    // Without --deliver the firings wait in the outbox.
    CHECK(cli.json({"history", "--status", "pending", "--limit", "1000"}).as_array().size() ==
          count);
    CHECK(server.requests().empty());

    const std::string text =
        cli.ok({"publish", "--window", "3"},
               alias_event_with_id("a") + "\n" + alias_event_with_id("b") + "\n" +
                   alias_event_with_id("c") + "\n" + alias_event_with_id("d") + "\n")
            .out;
    CHECK(text ==
          "published a: 1 firing(s)\npublished b: 1 firing(s)\npublished c: 1 firing(s)\n"
          "published d: 1 firing(s)\n");

    for (const char* bad : {"0", "-1", "many", "1000001"}) {
        const ProcessResult r = cli.run({"publish", "--window", bad}, alias_event + "\n");
        INFO(bad);
        CHECK(r.exit_code == 2);
        CHECK(r.err.find("--window: expected a number of lines from 1 to 1000000") !=
              std::string::npos);
    }
}

TEST_CASE("herald: publish prints each receipt as its line arrives, before end of input",
          "[cli][publish]") {
    Cli cli;
    cli.set_up_webhook("https://ci.example.com/hook");
    herald::test::ChildProcess child(
        cli.argv({"publish"}),
        alias_event_with_id("early-1") + "\n" + alias_event_with_id("early-2") + "\n",
        cli.dir.path(), herald::test::ChildProcess::Input::held_open);
    // Standard input stays open and the window (1024) is far from full: both receipts must
    // still come.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{20};
    std::string out;
    while (std::count(out.begin(), out.end(), '\n') < 2 &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds{20});
        std::ifstream in(cli.dir / "stdout");
        out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    CHECK(out == "published early-1: 1 firing(s)\npublished early-2: 1 firing(s)\n");
    const ProcessResult r = child.wait();
    CHECK(r.exit_code == 0);
}

TEST_CASE("herald: a refused line is reported with its number and the stream goes on",
          "[cli][publish]") {
    Cli cli;
    cli.set_up_webhook("https://ci.example.com/hook");
    const std::vector<std::string> lines{
        alias_event_with_id("one"),
        R"({"type": "ALIAS_ADDED", "entity": )",  // 2: cut short
        alias_event_with_id("three"),
        R"({"type": "ALIAS_ADDED", "entity": "acme", "project": "p", "alias": "a",)"
        R"( "version": {"collection": "c", "index": -1}})",  // 4: a negative index
        "   ",                                               // 5: blank
        R"({"type": "ALIAS_ADDED", "entity": "acme", "project": "p", "alias": "a",)"
        R"( "version": {"collection": "c", "index": 1}, "colour": "red"})",  // 6: unknown field
        alias_event_with_id("seven"),
        R"({"type": "ALIAS_ADDED", "entity": "acme", "project": "p", "alias": "a",)"
        R"( "version": {"collection": "\ud800", "index": 1}})"};  // 8: a lone surrogate
    std::string input;
    for (const std::string& line : lines)
        input += line + "\n";

    SECTION("every good line is published, exit status 1") {
        const ProcessResult r = cli.run({"publish", "--json", "--window", "4"}, input);
        CHECK(r.exit_code == 1);
        const std::vector<boost::json::value> receipts = json_lines(r.out);
        REQUIRE(receipts.size() == 3);
        CHECK(receipts[0].at("line") == 1);
        CHECK(receipts[1].at("line") == 3);
        CHECK(receipts[1].at("event_id") == "three");
        CHECK(receipts[2].at("line") == 7);
        CHECK(
            r.err.find("herald: error: line 2: invalid JSON at column 35: the text ends before the "
                       "JSON value does") != std::string::npos);
        CHECK(r.err.find(
                  "herald: error: line 8: version.collection: invalid JSON at column 100: a high "
                  "surrogate \\ud800 without its low surrogate") != std::string::npos);
        CHECK(r.err.find("herald: error: line 4: version.index: must be an integer >= 0") !=
              std::string::npos);
        CHECK(r.err.find("herald: error: line 6: colour: unknown field") != std::string::npos);
        CHECK(r.err.find("line 5") == std::string::npos);
        // In input order.
        CHECK(r.err.find("line 2:") < r.err.find("line 4:"));
        CHECK(r.err.find("line 4:") < r.err.find("line 6:"));
        CHECK(cli.json({"history"}).as_array().size() == 3);
    }
    SECTION("--stop-on-error stops at the first refused line, what was published stays") {
        const ProcessResult r = cli.run({"publish", "--stop-on-error"}, input);
        CHECK(r.exit_code == 1);
        CHECK(r.out == "published one: 1 firing(s)\n");
        CHECK(r.err.find("herald: error: line 2: ") != std::string::npos);
        CHECK(r.err.find("stopped at line 2 (--stop-on-error): 1 line(s) published, no line "
                         "read after line 2\n") != std::string::npos);
        CHECK(r.err.find("line 4") == std::string::npos);
        CHECK(cli.json({"history"}).as_array().size() == 1);
    }
}

TEST_CASE("herald: dry-run says what would fire and why not, and records nothing", "[cli]") {
    Cli cli;
    herald::test::TestServer server;
    cli.set_up_webhook(server.url());
    cli.ok({"automations", "apply", cli.file("m.json", R"({"name": "low-loss",
        "scope": {"type": "PROJECT", "entity": "acme", "project": "mnist"},
        "trigger": {"type": "RUN_METRIC_THRESHOLD", "metric": "loss", "window": 2,
                    "operator": "<", "threshold": 0.25},
        "action": {"type": "WEBHOOK", "integration": "deploy",
                   "payload": {"loss": "${metric_value}", "key": "${SIGNING_KEY}"}}})")});
    const auto loss = [](int step, double value) {
        return R"({"type": "RUN_METRICS_LOGGED", "entity": "acme", "project": "mnist",)"
               R"( "run": {"id": "r-1", "name": "bright-sun-1", "user": "alice"}, "step": )" +
               std::to_string(step) + R"(, "metrics": {"loss": )" + std::to_string(value) + "}}";
    };
    const std::string events = alias_event + "\n" + loss(1, 0.5) + "\n\n" + loss(2, 0.0) + "\n" +
                               loss(3, 0.0) + "\n" + loss(4, 0.0) + "\n";

    const ProcessResult text = cli.ok({"dry-run"}, events);
    CHECK(text.out.find("deploy-production  FIRES") != std::string::npos);
    CHECK(
        text.out.find("would send: {\"version\":\"acme/model-registry/classifier:production\"}") !=
        std::string::npos);
    CHECK(text.out.find("NOT_MET  avg(loss) over last 1 = 0.5, not < 0.25") != std::string::npos);
    CHECK(text.out.find("COOLDOWN  it fired for the run at ") != std::string::npos);

    const std::vector<boost::json::value> lines =
        json_lines(cli.ok({"dry-run", "--json", cli.file("events.ndjson", events)}).out);
    REQUIRE(lines.size() == 5);
    CHECK(lines[0].at("automations").as_array()[0].at("automation") == "deploy-production");
    CHECK(lines[1].at("automations").as_array()[0].at("outcome") == "NOT_MET");
    const boost::json::value& unmet = lines[2].at("automations").as_array()[0];
    CHECK(unmet.at("reason") == "avg(loss) over last 2 = 0.25, not < 0.25");
    const boost::json::value& fires = lines[3].at("automations").as_array()[0];
    CHECK(fires.at("outcome") == "FIRES");
    CHECK(fires.at("reason") == "avg(loss) over last 2 = 0 < 0.25");
    CHECK(std::string(fires.at("payload").as_string()).find(R"("key":"********")") !=
          std::string::npos);
    CHECK(fires.at("metric").at("values") == boost::json::parse("[0.0, 0.0]"));
    const boost::json::value& cooling = lines[4].at("automations").as_array()[0];
    CHECK(cooling.at("outcome") == "COOLDOWN");
    CHECK(cooling.as_object().contains("cooldown_until"));

    // A JSON array works too; nothing was recorded by any of this.
    const std::vector<boost::json::value> array = json_lines(
        cli.ok({"dry-run", "--json"}, "[" + alias_event + ",\n" + alias_event + "]").out);
    REQUIRE(array.size() == 2);
    CHECK(array[1].at("automations").as_array()[0].at("outcome") == "FIRES");
    CHECK(cli.json({"history"}).as_array().empty());
    CHECK(cli.json({"stats"}).at("deliveries").at("pending") == 0);
    CHECK(server.requests().empty());

    // A refused event stops it before anything is evaluated, naming the line.
    const ProcessResult refused =
        cli.run({"dry-run"}, alias_event + "\n" + R"({"type": "X"})" + "\n");
    CHECK(refused.exit_code == 1);
    CHECK(refused.out.empty());
    CHECK(refused.err.find("herald: error: line 2: ") != std::string::npos);
    CHECK(cli.printed.find(canary) == std::string::npos);
}

TEST_CASE("herald: --ca-file trusts a private CA for every command that sends", "[cli][tls]") {
    Cli cli;
    // The server's certificate is made when it starts (openssl, subjectAltName IP:127.0.0.1)
    // and is its own CA: no system trust store knows it.
    herald::test::TestServer server{{.tls = true}};
    cli.set_up_webhook(server.url());
    const std::vector<std::string> test_webhook{"webhook", "test",          "--entity",
                                                "acme",    "--integration", "deploy"};
    const ProcessResult untrusted = cli.run(test_webhook);
    CHECK(untrusted.exit_code == 1);
    CHECK(untrusted.out.find("HTTP 200") == std::string::npos);
    CHECK(server.requests().empty());

    std::vector<std::string> trusted = test_webhook;
    trusted.insert(trusted.begin(), {"--ca-file", server.ca_file()});
    CHECK(cli.ok(trusted).out.find("HTTP 200") != std::string::npos);
    REQUIRE(server.requests().size() == 1);

    const ProcessResult published = cli.ok(
        {"--ca-file", server.ca_file(), "publish", "--deliver", "--json"}, alias_event + "\n");
    const boost::json::value delivered = json_lines(published.out).back();
    CHECK(delivered.at("pending") == 0);
    CHECK(delivered.at("delivered").as_array()[0].at("status") == "Finished");

    cli.ok({"publish"}, alias_event + "\n");
    CHECK(cli.json({"--ca-file", server.ca_file(), "deliver"}).at("pending") == 0);
    REQUIRE(server.wait_for_requests(3));

    const std::string id(cli.json({"history", "--limit", "1"}).as_array()[0].at("id").as_string());
    cli.ok({"--ca-file", server.ca_file(), "replay", id});
    REQUIRE(server.wait_for_requests(4));
    CHECK(server.requests().back().header("X-Herald-Delivery") == id);

    const ProcessResult missing =
        cli.run({"--ca-file", (cli.dir / "no-such-ca.pem").string(), "deliver"});
    CHECK(missing.exit_code == 1);
    CHECK(missing.err.find("--ca-file: cannot read") != std::string::npos);
    CHECK(cli.printed.find(canary) == std::string::npos);
}
