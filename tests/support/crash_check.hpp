// What the crash tests (tests/crash, tests/postgres) publish and check: a stream of tagged
// versions, event-0 to event-N, and, once every run is over, that each event has one firing
// whose delivery the receiver saw, with the attempt the history records as its success.
// Header only, Catch2 test code only.
#pragma once

#include "support/process.hpp"
#include "support/test_server.hpp"

#include <boost/json/parse.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace herald::test {

/// The id of the `i`th event of the stream.
inline std::string crash_event_id(int i) {
    return "event-" + std::to_string(i);
}

/// What the events of a crash test's stream are.
enum class CrashStream {
    tags,     ///< a tag added to a version: matched, nothing remembered between events
    metrics,  ///< a run's first metric value: a run trigger, which keeps a window and a cooldown
};

/// The `i`th event of the stream, one JSON line, in acme/mnist: a tag added to version `i`, or
/// a loss logged by run `run-i`.
inline std::string crash_event(int i, CrashStream stream) {
    if (stream == CrashStream::metrics)
        return R"({"type": "RUN_METRICS_LOGGED", "id": ")" + crash_event_id(i) +
               R"(", "entity": "acme", "project": "mnist", "run": {"id": "run-)" +
               std::to_string(i) +
               R"(", "name": "r", "user": "alice"}, "step": 0,)"
               R"( "metrics": {"loss": 0.5}})"
               "\n";
    return R"({"type": "TAG_ADDED", "id": ")" + crash_event_id(i) +
           R"(", "entity": "acme", "project": "mnist", "tag": "checked",)"
           R"( "version": {"collection": "data", "index": )" +
           std::to_string(i) + "}}\n";
}

/// The firings that `herald history --json` printed, by event id.
inline std::multimap<std::string, boost::json::object> firings_by_event(const std::string& json) {
    std::multimap<std::string, boost::json::object> out;
    const boost::json::value firings = boost::json::parse(json);
    for (const auto& f : firings.as_array())
        out.emplace(std::string(f.at("event").at("id").as_string()), f.as_object());
    return out;
}

/// The `herald` tool as a crash test runs it: `prefix` (the tool and its global options) before
/// each command, the secret key in the environment, output captured in `dir`, publishing the
/// events of `stream`.
class CrashTool {
  public:
    CrashTool(std::vector<std::string> prefix, std::filesystem::path dir,
              CrashStream stream = CrashStream::tags)
        : prefix_(std::move(prefix)), dir_(std::move(dir)), stream_(stream) {
        ::setenv("HERALD_SECRET_KEY",
                 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", 1);
    }

    std::vector<std::string> command(std::vector<std::string> args) const {
        args.insert(args.begin(), prefix_.begin(), prefix_.end());
        return args;
    }
    /// Runs a command to its end; it must succeed.
    ProcessResult run(std::vector<std::string> args, const std::string& input = "") const {
        auto r = run_process(command(std::move(args)), input, dir_);
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        return r;
    }
    /// Makes the signing secret, the webhook integration to `receiver` and the automation the
    /// stream fires: on every tag, or on every run's first loss (a window of one value, whose
    /// cooldown then holds back any other firing for the run).
    void set_up(const TestServer& receiver) const {
        run({"secrets", "put", "--entity", "acme", "KEY"}, "signing-key");
        run({"integrations", "apply", "-"},
            R"({"type": "WEBHOOK", "entity": "acme", "name": "receiver", "url": ")" +
                receiver.url() + R"(", "signing_secret": "KEY"})");
        if (stream_ == CrashStream::metrics)
            run({"automations", "apply", "-"},
                R"({"name": "loss", "scope": {"type": "PROJECT", "entity": "acme", "project": "mnist"},
                    "trigger": {"type": "RUN_METRIC_THRESHOLD", "metric": "loss", "window": 1,
                                "operator": "<", "threshold": 1000},
                    "action": {"type": "WEBHOOK", "integration": "receiver",
                               "payload": {"run": "${run_id}"}}})");
        else
            run({"automations", "apply", "-"},
                R"({"name": "tagged", "scope": {"type": "PROJECT", "entity": "acme", "project": "mnist"},
                    "trigger": {"type": "ADD_ARTIFACT_TAG"},
                    "action": {"type": "WEBHOOK", "integration": "receiver",
                               "payload": {"version": "${artifact_version_string}"}}})");
    }
    /// The firings in the history, by event id.
    std::multimap<std::string, boost::json::object> history() const {
        return firings_by_event(run({"history", "--json", "--limit", "1000000"}).out);
    }
    /// Of the first `released` events, those `wanted` takes (by number) that the history does
    /// not hold yet, one JSON line each.
    std::string unpublished(int released, const std::function<bool(int)>& wanted = {}) const {
        const auto recorded = history();
        std::string lines;
        for (int i = 0; i < released; ++i)
            if ((!wanted || wanted(i)) && !recorded.contains(crash_event_id(i)))
                lines += crash_event(i, stream_);
        return lines;
    }

  private:
    std::vector<std::string> prefix_;
    std::filesystem::path dir_;
    CrashStream stream_;
};

/// Checks that each of the first `event_count` events has exactly one firing, finished, whose
/// successful attempt the receiver saw, and that every request the receiver saw belongs to a
/// recorded firing. Returns how many requests repeated a delivery already received.
inline std::size_t check_every_delivery(
    const std::multimap<std::string, boost::json::object>& recorded,
    const std::vector<ReceivedRequest>& requests, int event_count) {
    std::map<std::string, std::multiset<std::string>> seen;  // delivery id -> attempt numbers
    for (const auto& r : requests)
        seen[r.header("X-Herald-Delivery")].insert(r.header("X-Herald-Attempt"));

    std::set<std::string> firing_ids;
    for (int i = 0; i < event_count; ++i) {
        const std::string id = crash_event_id(i);
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
    std::size_t repeated = 0;
    for (const auto& [delivery, attempts] : seen) {
        CHECK(firing_ids.contains(delivery));
        repeated += attempts.size() - 1;
    }
    return repeated;
}

}  // namespace herald::test
