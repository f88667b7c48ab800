// Crash safety of the SQLite backend, end to end: the `herald` tool (path in HERALD_CLI)
// publishes a stream of events whose automation delivers to a loopback receiver (the test
// server, which records every request's delivery id), and is killed with SIGKILL at random
// points, again and again. Each restart publishes the events the history does not hold yet and
// resumes delivery (deliveries a killed process had claimed come back after the lease). At the
// end every event has exactly one firing, the receiver has seen every firing's delivery at
// least once, every request it saw belongs to a recorded firing (a duplicate carries the same
// id), and the history records the successful attempt the receiver saw.
#include "sqlite/temp_dir.hpp"
#include "support/crash_check.hpp"
#include "support/process.hpp"
#include "support/test_server.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <random>
#include <thread>

namespace {

constexpr int event_count = 150;
constexpr int kill_count = 24;

struct Harness {
    herald::test::TempDir dir;
    const herald::test::CrashTool tool{{HERALD_CLI, "--db", (dir / "herald.db").string(),
                                        "--allow-subnet", "127.0.0.0/8", "--lease", "300ms"},
                                       dir.path()};
};

}  // namespace

TEST_CASE("SIGKILL at random points loses no delivery and duplicates none", "[crash]") {
    const auto started = std::chrono::steady_clock::now();
    herald::test::TestServer receiver;
    Harness h;
    h.tool.set_up(receiver);

    // Each run gets the events released so far (seven more after every kill) on a standard input
    // that stays open, so it publishes, delivers meanwhile, and is still running, at whatever
    // point, when the kill comes.
    std::mt19937 random(std::random_device{}());
    std::uniform_int_distribution<int> delay_ms(5, 300);
    constexpr int per_round = event_count / kill_count + 1;
    int kills = 0;
    for (; kills < kill_count; ++kills) {
        herald::test::ChildProcess child(
            h.tool.command({"publish", "--deliver"}),
            h.tool.unpublished(std::min((kills + 1) * per_round, event_count)), h.dir.path(),
            herald::test::ChildProcess::Input::held_open);
        std::this_thread::sleep_for(std::chrono::milliseconds{delay_ms(random)});
        child.kill_hard();
        const auto ended = child.wait();
        INFO(ended.err);
        REQUIRE(ended.signal == SIGKILL);
    }
    // The last run is left to finish: the rest is published and everything delivered.
    h.tool.run({"publish", "--deliver", "--wait", "30s"}, h.tool.unpublished(event_count));

    const std::size_t duplicates =
        herald::test::check_every_delivery(h.tool.history(), receiver.requests(), event_count);
    const auto seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::cout << "crash test: " << kills << " SIGKILLs, " << event_count << " events, "
              << receiver.requests().size() << " requests received (" << duplicates
              << " repeated deliveries, same ids), " << seconds << " s\n";
}
