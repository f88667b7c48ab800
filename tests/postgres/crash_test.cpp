// Crash safety with several replicas on one PostgreSQL database, end to end: three `herald`
// processes (path in HERALD_CLI) on one schema each publish their share of a stream of events
// whose automation delivers to a loopback receiver, and deliver from the one outbox they share.
// Replicas are killed with SIGKILL at random points, one at a time, and restarted with their
// share of the events the history does not hold yet; the others keep running and take over
// what a killed one had claimed once its lease ends. At the end every event has exactly one
// firing, the receiver has seen every firing's delivery, every request it saw belongs to a
// recorded firing (a repeated one carries the same id), and the history records the
// successful attempt the receiver saw.
#include "postgres/test_server.hpp"
#include "sqlite/temp_dir.hpp"
#include "support/crash_check.hpp"
#include "support/process.hpp"
#include "support/test_server.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <random>
#include <thread>

namespace {

constexpr int replica_count = 3;
constexpr int event_count = 180;
constexpr int kill_count = 30;

struct Harness {
    const std::string schema = herald::test::fresh_schema();
    herald::test::TempDir scratch;
    std::array<herald::test::TempDir, replica_count> dirs;  // each child's captured output
    const herald::test::CrashTool tool{
        {HERALD_CLI, "--db", herald::test::postgres_uri(), "--schema", schema, "--allow-subnet",
         "127.0.0.0/8", "--lease", "300ms"},
        scratch.path()};
};

}  // namespace

TEST_CASE("SIGKILL to random replicas at random points loses no delivery", "[postgres][crash]") {
    const auto started = std::chrono::steady_clock::now();
    herald::test::TestServer receiver;
    Harness h;
    h.tool.set_up(receiver);

    // Each replica gets its share of the events released so far (six more after every kill)
    // on a standard input that stays open, so it publishes, delivers meanwhile, and is still
    // running, at whatever point, when a kill comes.
    constexpr int per_round = event_count / kill_count;
    int released = per_round;
    std::array<std::unique_ptr<herald::test::ChildProcess>, replica_count> replicas;
    const auto start = [&](int r) {
        replicas[r] = std::make_unique<herald::test::ChildProcess>(
            h.tool.command({"publish", "--deliver"}),
            h.tool.unpublished(released, [r](int i) { return i % replica_count == r; }),
            h.dirs[r].path(), herald::test::ChildProcess::Input::held_open);
    };
    for (int r = 0; r < replica_count; ++r)
        start(r);
    std::mt19937 random(std::random_device{}());
    std::uniform_int_distribution<int> delay_ms(5, 300);
    std::uniform_int_distribution<int> pick(0, replica_count - 1);
    int kills = 0;
    for (; kills < kill_count; ++kills) {
        std::this_thread::sleep_for(std::chrono::milliseconds{delay_ms(random)});
        const int r = pick(random);
        replicas[r]->kill_hard();
        const auto ended = replicas[r]->wait();
        INFO(ended.err);
        REQUIRE(ended.signal == SIGKILL);
        released += per_round;
        start(r);
    }
    for (auto& replica : replicas) {
        replica->kill_hard();
        replica->wait();
    }
    // A last run is left to finish: the rest is published and everything delivered.
    h.tool.run({"publish", "--deliver", "--wait", "30s"}, h.tool.unpublished(event_count));

    const std::size_t duplicates =
        herald::test::check_every_delivery(h.tool.history(), receiver.requests(), event_count);
    const auto seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::cout << "postgres crash test: " << replica_count << " replicas, " << kills << " SIGKILLs, "
              << event_count << " events, " << receiver.requests().size() << " requests received ("
              << duplicates << " repeated deliveries, same ids), " << seconds << " s\n";
}
