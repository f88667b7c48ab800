// Crash safety of the SQLite backend, end to end: the `herald` tool (path in HERALD_CLI)
// publishes a stream of events whose automation delivers to a loopback receiver (the test
// server, which records every request's delivery id), and is killed with SIGKILL at random
// points, again and again. Each restart publishes the events the history does not hold yet and
// resumes delivery (deliveries a killed process had claimed come back after the lease). At the
// end every event has exactly one firing, the receiver has seen every firing's delivery at
// least once, every request it saw belongs to a recorded firing (a duplicate carries the same
// id), and the history records the successful attempt the receiver saw.
#include "sqlite/temp_dir.hpp"
#include "support/process.hpp"
#include "support/test_server.hpp"

#include <boost/json/parse.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <thread>

namespace {

constexpr int event_count = 150;
constexpr int kill_count = 24;

struct Harness {
    Harness() {
        ::setenv("HERALD_SECRET_KEY",
                 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", 1);
    }

    std::vector<std::string> command(std::vector<std::string> args) const {
        args.insert(args.begin(), {HERALD_CLI, "--db", (dir / "herald.db").string(),
                                   "--allow-subnet", "127.0.0.0/8", "--lease", "300ms"});
        return args;
    }
    herald::test::ProcessResult run(std::vector<std::string> args, const std::string& input = "") {
        auto r = herald::test::run_process(command(std::move(args)), input, dir.path());
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        return r;
    }
    // The firings in the history, by event id.
    std::multimap<std::string, boost::json::object> history() {
        std::multimap<std::string, boost::json::object> out;
        const auto r = run({"history", "--json", "--limit", "1000000"});
        const boost::json::value firings = boost::json::parse(r.out);
        for (const auto& f : firings.as_array())
            out.emplace(std::string(f.at("event").at("id").as_string()), f.as_object());
        return out;
    }
    // The first `released` events that the history does not hold yet, one JSON line each.
    std::string unpublished(int released = event_count) {
        const auto recorded = history();
        std::string lines;
        for (int i = 0; i < std::min(released, event_count); ++i) {
            const std::string id = "event-" + std::to_string(i);
            if (!recorded.contains(id))
                lines += R"({"type": "TAG_ADDED", "id": ")" + id +
                         R"(", "entity": "acme", "project": "mnist", "tag": "checked",)"
                         R"( "version": {"collection": "data", "index": )" +
                         std::to_string(i) + "}}\n";
        }
        return lines;
    }

    herald::test::TempDir dir;
};

}  // namespace

TEST_CASE("SIGKILL at random points loses no delivery and duplicates none", "[crash]") {
    const auto started = std::chrono::steady_clock::now();
    herald::test::TestServer receiver;
    Harness h;
    h.run({"secrets", "put", "--entity", "acme", "KEY"}, "signing-key");
    h.run({"integrations", "apply", "-"},
          R"({"type": "WEBHOOK", "entity": "acme", "name": "receiver", "url": ")" + receiver.url() +
              R"(", "signing_secret": "KEY"})");
    h.run({"automations", "apply", "-"},
          R"({"name": "tagged", "scope": {"type": "PROJECT", "entity": "acme", "project": "mnist"},
              "trigger": {"type": "ADD_ARTIFACT_TAG"},
              "action": {"type": "WEBHOOK", "integration": "receiver",
                         "payload": {"version": "${artifact_version_string}"}}})");

    // Each run gets the events released so far (seven more after every kill) on a standard input
    // that stays open, so it publishes, delivers meanwhile, and is still running, at whatever
    // point, when the kill comes.
    std::mt19937 random(std::random_device{}());
    std::uniform_int_distribution<int> delay_ms(5, 300);
    constexpr int per_round = event_count / kill_count + 1;
    int kills = 0;
    for (; kills < kill_count; ++kills) {
        herald::test::ChildProcess child(h.command({"publish", "--deliver"}),
                                         h.unpublished((kills + 1) * per_round), h.dir.path(),
                                         herald::test::ChildProcess::Input::held_open);
        std::this_thread::sleep_for(std::chrono::milliseconds{delay_ms(random)});
        child.kill_hard();
        const auto ended = child.wait();
        INFO(ended.err);
        REQUIRE(ended.signal == SIGKILL);
    }
    // The last run is left to finish: the rest is published and everything delivered.
    h.run({"publish", "--deliver", "--wait", "30s"}, h.unpublished());

    const auto recorded = h.history();
    std::map<std::string, std::multiset<std::string>> seen;  // delivery id -> attempt numbers
    for (const auto& r : receiver.requests())
        seen[r.header("X-Herald-Delivery")].insert(r.header("X-Herald-Attempt"));

    std::set<std::string> firing_ids;
    for (int i = 0; i < event_count; ++i) {
        const std::string id = "event-" + std::to_string(i);
        INFO(id);
        REQUIRE(recorded.count(id) == 1);
        const boost::json::object& firing = recorded.find(id)->second;
        const std::string delivery(firing.at("id").as_string());
        firing_ids.insert(delivery);
        CHECK(firing.at("status") == "Finished");
        const auto& last = firing.at("attempts").as_array().back();
        CHECK(last.at("status_code") == 200);
        REQUIRE(seen.contains(delivery));
        CHECK(seen[delivery].contains(std::to_string(last.at("number").as_int64())));
    }
    std::size_t duplicates = 0;
    for (const auto& [delivery, attempts] : seen) {
        CHECK(firing_ids.contains(delivery));
        duplicates += attempts.size() - 1;
    }
    const auto seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::cout << "crash test: " << kills << " SIGKILLs, " << event_count << " events, "
              << receiver.requests().size() << " requests received (" << duplicates
              << " repeated deliveries, same ids), " << seconds << " s\n";
}
