// The `herald` tool with --db postgresql://... (the test server's socket), run as a real
// process (path in HERALD_CLI): every kind of command goes to PostgreSQL, and a second process
// sees what the first one wrote while both use the database.
#include "postgres/test_server.hpp"
#include "sqlite/temp_dir.hpp"
#include "support/event_builders.hpp"
#include "support/log_capture.hpp"
#include "support/process.hpp"
#include "support/test_server.hpp"

#include <herald/engine.hpp>
#include <herald/postgres/database.hpp>

#include <boost/json/parse.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

constexpr const char* canary = "canary-5e1d0b7a-do-not-print";

struct Cli {
    /// The tool on `schema` (--schema), or on its default one, emptied first.
    explicit Cli(std::string schema_name = {}) : schema(std::move(schema_name)) {
        ::setenv("HERALD_SECRET_KEY",
                 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", 1);
        if (schema.empty())
            herald::test::raw_query("DROP SCHEMA IF EXISTS herald CASCADE");
    }
    herald::test::ProcessResult ok(std::vector<std::string> args, const std::string& input = "") {
        args.insert(args.begin(), {HERALD_CLI, "--db", uri, "--allow-subnet", "127.0.0.0/8"});
        if (!schema.empty())
            args.insert(args.begin() + 3, {"--schema", schema});
        herald::test::ProcessResult r = herald::test::run_process(args, input, dir);
        printed += r.out + r.err;
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        return r;
    }
    boost::json::value json(std::vector<std::string> args) {
        args.push_back("--json");
        return boost::json::parse(ok(std::move(args)).out);
    }
    std::string file(const std::string& name, const std::string& text) {
        std::ofstream(dir / name, std::ios::trunc) << text;
        return (dir / name).string();
    }

    std::string uri = herald::test::postgres_uri();
    std::string schema;             ///< --schema; empty: the tool's default
    herald::test::TempDir scratch;  ///< its own: the capture files of tests run at once apart
    std::filesystem::path dir = scratch.path();
    std::string printed;
};

}  // namespace

TEST_CASE("herald --db postgresql:// manages, publishes, delivers and lists history",
          "[postgres][cli]") {
    Cli cli;
    herald::test::TestServer server;
    cli.ok({"secrets", "put", "--entity", "acme", "SIGNING_KEY"}, std::string(canary) + "\n");
    cli.ok({"integrations", "apply",
            cli.file("pg-i.json", R"({"type": "WEBHOOK",
        "entity": "acme", "name": "deploy", "url": ")" +
                                      server.url() + R"(", "signing_secret": "SIGNING_KEY"})")});
    cli.ok({"automations", "apply", cli.file("pg-a.json", R"([{"name": "deploy-production",
        "scope": {"type": "REGISTRY", "entity": "acme", "registry": "model-registry"},
        "trigger": {"type": "ADD_ARTIFACT_ALIAS", "alias": "production"},
        "action": {"type": "WEBHOOK", "integration": "deploy", "payload": {"v": 1}}}])")});
    CHECK(cli.json({"automations", "list"}).as_array().size() == 1);
    CHECK(cli.json({"integrations", "list", "--entity", "acme"}).as_array().size() == 1);
    CHECK(cli.ok({"secrets", "list", "--entity", "acme"}).out.find("SIGNING_KEY") !=
          std::string::npos);

    const std::string event = R"({"type": "ALIAS_ADDED", "author": "alice", "entity": "acme",)"
                              R"( "project": "model-registry", "alias": "production",)"
                              R"( "version": {"collection": "classifier", "index": 4}})";
    cli.ok({"publish", "--deliver"}, event + "\n" + event + "\n");
    REQUIRE(server.wait_for_requests(2));

    const boost::json::value history = cli.json({"history", "--status", "finished"});
    REQUIRE(history.as_array().size() == 2);
    std::set<std::string> recorded, received;
    for (const auto& f : history.as_array())
        recorded.insert(std::string(f.at("id").as_string()));
    for (const auto& r : server.requests())
        received.insert(r.header("X-Herald-Delivery"));
    CHECK(recorded == received);
    CHECK(cli.json({"dead"}).as_array().empty());
    // The rows are in the database, where another process reads them.
    CHECK(herald::test::raw_query("SELECT count(*) FROM herald.firings") ==
          std::vector<std::string>{"2"});
    CHECK(cli.ok({"secrets", "rotate-key"}).exit_code == 0);
    CHECK(cli.printed.find(canary) == std::string::npos);
}

TEST_CASE("automations the tool applies and disables reach a running engine on its own",
          "[postgres][cli]") {
    using namespace std::chrono_literals;
    Cli cli(herald::test::fresh_schema());
    herald::test::LogCapture logs;
    herald::Engine engine({.storage = herald::postgres::open(herald::test::postgres_conninfo(),
                                                             {.schema = cli.schema}),
                           .logger = logs.logger(herald::LogLevel::info),
                           .refresh_interval = 20ms});
    // Waits for the engine's `n`th refresh; the bound only keeps a broken build from hanging.
    const auto refreshed = [&](std::size_t n) {
        const auto give_up = std::chrono::steady_clock::now() + 10s;
        while (logs.of("automations.refreshed").size() < n &&
               std::chrono::steady_clock::now() < give_up)
            std::this_thread::sleep_for(5ms);
        return logs.of("automations.refreshed").size() == n;
    };
    const auto fired = [&] {
        return engine.publish(herald::test::alias_added("acme", "mnist", "clf", "production"))
            .firings.size();
    };
    cli.ok({"automations", "apply", cli.file("pg-watch.json", R"({"name": "watch",
        "scope": {"type": "PROJECT", "entity": "acme", "project": "mnist"},
        "trigger": {"type": "ADD_ARTIFACT_ALIAS", "alias": "production"},
        "action": {"type": "NO_ACTION"}})")});
    REQUIRE(refreshed(1));
    CHECK(fired() == 1);

    const boost::json::value listed = cli.json({"automations", "list"});
    REQUIRE(listed.as_array().size() == 1);
    cli.ok({"automations", "disable", std::string(listed.as_array()[0].at("id").as_string())});
    REQUIRE(refreshed(2));
    CHECK(logs.of("automations.refreshed")[1].fields.at("changed") == "1");
    CHECK(fired() == 0);
}
