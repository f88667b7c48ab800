// Crash safety of the SQLite backend, end to end: the `herald` tool (path in HERALD_CLI)
// publishes a stream of events whose automation delivers to a loopback receiver (the test
// server, which records every request's delivery id), and is killed with SIGKILL at random
// points, again and again. Each restart publishes the events the history does not hold yet and
// resumes delivery (deliveries a killed process had claimed come back after the lease). At the
// end every event has exactly one firing, the receiver has seen every firing's delivery at
// least once, every request it saw belongs to a recorded firing (a duplicate carries the same
// id), and the history records the successful attempt the receiver saw. Twice: with tag events,
// and with run metric events, whose trigger keeps a cooldown per run that must be written with
// its firing.
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

constexpr int kill_count = 24;

struct Harness {
    explicit Harness(herald::test::CrashStream stream) : stream(stream) {}

    herald::test::CrashStream stream;
    herald::test::TempDir dir;
    const herald::test::CrashTool tool{{HERALD_CLI, "--db", (dir / "herald.db").string(),
                                        "--allow-subnet", "127.0.0.0/8", "--lease", "300ms"},
                                       dir.path(),
                                       stream};
};

/// Publishes and delivers `event_count` events of the stream, killing the tool at random points,
/// then checks every event fired once and was delivered.
void crash_and_check(herald::test::CrashStream stream, int event_count) {
    const auto started = std::chrono::steady_clock::now();
    herald::test::TestServer receiver;
    Harness h(stream);
    h.tool.set_up(receiver);

    // Each run gets the events released so far (seven more after every kill) on a standard input
    // that stays open, so it publishes, delivers meanwhile, and is still running, at whatever
    // point, when the kill comes.
    std::mt19937 random(std::random_device{}());
    std::uniform_int_distribution<int> delay_ms(5, 300);
    const int per_round = event_count / kill_count + 1;
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

}  // namespace

TEST_CASE("SIGKILL at random points loses no delivery and duplicates none", "[crash]") {
    crash_and_check(herald::test::CrashStream::tags, 150);
}

// A run trigger's cooldown is written with its firing: a kill between the two would leave the
// run's cooldown holding back the firing that the restart publishes again, which never comes.
// Twenty-five events a round, so that many kills come while events are being recorded.
TEST_CASE("SIGKILL at random points leaves no run trigger cooldown without its firing", "[crash]") {
    crash_and_check(herald::test::CrashStream::metrics, 600);
}
