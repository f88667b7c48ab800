// The SQLite backend when the disk fails in the middle of the work: writes and syncs refused
// through a VFS (sqlite/faulty_vfs.hpp) while writers commit in groups, while the dispatcher
// claims and settles deliveries to a real receiver on loopback, and while history is pruned.
// Each time the caller hears a clear error, nothing committed is lost, nothing is half-written,
// and the work goes on by itself once the disk does — except after a failed fsync, which leaves
// the database refusing writes until it is opened again.
#include "sqlite/faulty_vfs.hpp"
#include "sqlite/temp_dir.hpp"
#include "support/error_of.hpp"
#include "support/event_builders.hpp"
#include "support/fault_checks.hpp"
#include "support/test_server.hpp"

#include <herald/engine.hpp>
#include <herald/sqlite/database.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>

#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

using namespace herald;
using namespace std::chrono_literals;
using herald::test::error_of;
using herald::test::FaultyVfs;
using herald::test::history_ids;
using herald::test::pending_firing;
using herald::test::soon;
using herald::test::TempDir;

namespace {

const Timestamp t0{std::chrono::hours{1000}};

/// The firing ids of every delivery in the outbox (claiming them, so call it last).
std::set<std::string> outbox_ids(Storage& store) {
    std::set<std::string> ids;
    for (const Delivery& d : store.outbox().claim(t0 + 1h, 1'000'000, t0 + 2h))
        ids.insert(d.firing.id);
    return ids;
}

}  // namespace

TEST_CASE("writes the disk refuses mid-run fail their writers alone, and writing resumes with it",
          "[sqlite][fault]") {
    const auto [code, words] = GENERATE(std::pair{SQLITE_IOERR_WRITE, "disk I/O error"},
                                        std::pair{SQLITE_FULL, "database or disk is full"});
    TempDir dir;
    const auto file = dir / "herald.db";
    FaultyVfs vfs;
    std::set<std::string> written;
    {
        auto store = sqlite::open(file, {.vfs = vfs.name()});
        std::mutex mutex;
        std::vector<Error> refused;
        std::atomic<int> successes = 0, failures = 0;
        std::atomic<bool> done = false;
        std::vector<std::thread> writers;
        for (int t = 0; t < 4; ++t)
            writers.emplace_back([&, t] {
                for (int i = 0; !done; ++i) {
                    // Each firing with its delivery: both are written, or neither.
                    const Firing f =
                        pending_firing(std::to_string(t) + "-" + std::to_string(i), t0);
                    const NewDelivery d{.firing = 0, .action = action::None{}, .due = t0};
                    try {
                        store->record_firings({&f, 1}, {&d, 1});
                        std::lock_guard lock(mutex);
                        written.insert(f.id);
                        ++successes;
                    } catch (const Error& e) {
                        std::lock_guard lock(mutex);
                        refused.push_back(e);
                        ++failures;
                    }
                }
            });
        REQUIRE(soon([&] { return successes >= 50; }));
        vfs.fail_writes(code);
        REQUIRE(soon([&] { return failures >= 20; }));
        vfs.fail_writes(SQLITE_OK);
        const int before = successes;
        REQUIRE(soon([&] { return successes >= before + 50; }));
        done = true;
        for (auto& w : writers)
            w.join();

        CHECK(vfs.refused_writes() > 0);
        for (const Error& e : refused) {
            CHECK(e.code() == errc::storage_failure);
            CHECK(e.reason().find(file.string()) != std::string::npos);
            CHECK(e.reason().find(words) != std::string::npos);
        }
        CHECK(history_ids(*store) == written);
    }
    // What was committed is in the file, and only that, each firing with its delivery.
    auto store = sqlite::open(file);
    CHECK(history_ids(*store) == written);
    CHECK(store->outbox().pending_count() == written.size());
    CHECK(outbox_ids(*store) == written);
}

TEST_CASE("a failed fsync fails its writers and every later write until the file is reopened",
          "[sqlite][fault]") {
    TempDir dir;
    const auto file = dir / "herald.db";
    FaultyVfs vfs;
    {
        auto store = sqlite::open(file, {.vfs = vfs.name()});
        store->history().append(std::vector<Firing>{pending_firing("before", t0)});

        vfs.fail_syncs(SQLITE_IOERR_FSYNC);
        const Error failed = error_of(
            [&] { store->history().append(std::vector<Firing>{pending_firing("during", t0)}); });
        CHECK(failed.code() == errc::storage_failure);
        CHECK(failed.reason().find(file.string() + "-wal: syncing the WAL to disk failed") !=
              std::string::npos);
        CHECK(failed.reason().find("refused until the database is opened again") !=
              std::string::npos);
        CHECK(vfs.refused_syncs() > 0);

        // The disk answers again, but what it lost cannot be known: writes stay refused.
        vfs.fail_syncs(SQLITE_OK);
        const Error later = error_of(
            [&] { store->history().append(std::vector<Firing>{pending_firing("later", t0)}); });
        CHECK(later.reason() == failed.reason());
        CHECK_FALSE(store->history().find("later"));
    }
    auto store = sqlite::open(file, {.vfs = vfs.name()});
    CHECK(store->history().find("before"));
    CHECK_FALSE(store->history().find("later"));
    CHECK_NOTHROW(store->history().append(std::vector<Firing>{pending_firing("after", t0)}));
    CHECK(store->history().find("after"));
}

TEST_CASE("a metric event the disk refuses leaves neither its firing nor its window and cooldown",
          "[sqlite][fault]") {
    TempDir dir;
    const auto file = dir / "herald.db";
    FaultyVfs vfs;
    const Run run{.id = "run-1", .name = "one", .user = "alice"};
    std::string id;
    {
        auto clock = std::make_shared<ManualClock>(t0);
        Engine engine{{.storage = sqlite::open(file, {.vfs = vfs.name()}), .clock = clock}};
        id = engine.automations()
                 .create(
                     test::admin_of("acme"),
                     Automation{.name = "low-loss",
                                .scope = Scope::for_project("acme", "mnist"),
                                .trigger = trigger::MetricThreshold{.metric = "loss",
                                                                    .window = 2,
                                                                    .comparison = Comparison::less,
                                                                    .threshold = 0.5,
                                                                    .cooldown = 1h},
                                .action = action::None{}})
                 .id;
        CHECK(engine.publish(test::metrics_logged("mnist", run, "loss", 0.6, 1)).firings.empty());

        // It would fire (the average of 0.6 and 0.1 is below 0.5), but cannot be recorded.
        vfs.fail_writes(SQLITE_IOERR_WRITE);
        const Error e =
            error_of([&] { engine.publish(test::metrics_logged("mnist", run, "loss", 0.1, 2)); });
        CHECK(e.code() == errc::storage_failure);
        CHECK(e.reason().find("disk I/O error") != std::string::npos);

        // The disk works again: the event that failed never counted and started no cooldown,
        // so the window is the value before it and this one, which fire with what they changed.
        vfs.fail_writes(SQLITE_OK);
        clock->advance(1s);
        const PublishReceipt receipt =
            engine.publish(test::metrics_logged("mnist", run, "loss", 0.3, 3));
        REQUIRE(receipt.firings.size() == 1);
        CHECK(receipt.firings[0].metric->metric_values == std::vector<double>{0.6, 0.3});
    }
    auto store = sqlite::open(file);
    const auto state = store->trigger_state().load({id, run.id});
    REQUIRE(state);
    CHECK(state->values == std::vector<double>{0.6, 0.3});
    CHECK(state->last_step == 3);
    CHECK(state->last_fired == t0 + 1s);
    CHECK(store->history().query({}).size() == 1);
}

TEST_CASE("a prune the disk refuses fails whole batches only, and the next one finishes it",
          "[sqlite][fault]") {
    TempDir dir;
    FaultyVfs vfs;
    auto store = sqlite::open(dir / "herald.db", {.vfs = vfs.name()});
    std::vector<Firing> old;
    for (int i = 0; i < 300; ++i) {
        Firing f = pending_firing("old-" + std::to_string(i), t0 - 100h);
        f.status = FiringStatus::finished;
        old.push_back(std::move(f));
    }
    store->history().append(old);
    store->history().append(std::vector<Firing>{pending_firing("recent", t0)});

    PruneRequest request{.settled_before = t0 - 1h, .dead_before = t0 - 1h, .batch = 100};
    vfs.fail_writes(SQLITE_IOERR_WRITE);
    const Error e = error_of([&] { store->prune(request); });
    CHECK(e.code() == errc::storage_failure);
    CHECK(e.reason().find("disk I/O error") != std::string::npos);
    CHECK(history_ids(*store).size() == 301);  // the first batch failed: nothing went

    vfs.fail_writes(SQLITE_OK);
    const PruneResult result = store->prune(request);
    CHECK(result.firings == 300);
    CHECK(history_ids(*store) == std::set<std::string>{"recent"});
}

TEST_CASE("deliveries outlast claims and settles the disk refuses, and go out once it works",
          "[sqlite][fault][live]") {
    TempDir dir;
    FaultyVfs vfs;
    test::TestServer server;
    auto store = sqlite::open(dir / "herald.db", {.vfs = vfs.name()});
    boost::asio::io_context io;
    std::mutex mutex;
    std::set<std::string> failed_operations;

    EngineConfig config{.storage = store};
    config.dispatch.http.ssrf.allowed_subnets = {"127.0.0.0/8"};
    config.dispatch.poll_interval = 20ms;
    config.dispatch.lease = 2s;
    config.dispatch.on_storage_error = [&](const StorageFailure& failure) {
        std::lock_guard lock(mutex);
        failed_operations.insert(failure.operation);
    };
    Engine engine{io.get_executor(), config};
    const Principal admin = test::admin_of("acme");
    engine.integrations().create(
        admin, WebhookIntegration{.entity = "acme", .name = "deploy", .url = server.url("/hook")});
    engine.automations().create(
        admin, Automation{.name = "on-production",
                          .scope = Scope::for_project("acme", "reg"),
                          .trigger = trigger::AddArtifactAlias{.alias = Pattern{"production"}},
                          .action = action::Webhook{.integration = "deploy",
                                                    .payload = R"({"event": "${event_id}"})"}});
    std::set<std::string> published, events;
    const auto publish = [&](int n) {
        for (int i = 0; i < n; ++i) {
            Event event = test::alias_added("acme", "reg", "clf", "production");
            event.id = "event-" + std::to_string(events.size());
            events.insert(event.id);
            for (const auto& f : engine.publish(event).firings)
                published.insert(f.id);
        }
    };
    const auto run_until = [&](const std::function<bool()>& done) {
        const auto deadline = std::chrono::steady_clock::now() + 20s;
        while (!done()) {
            if (std::chrono::steady_clock::now() > deadline)
                return false;
            io.run_for(5ms);
        }
        return true;
    };
    const auto failed = [&](const std::string& operation) {
        std::lock_guard lock(mutex);
        return failed_operations.contains(operation);
    };

    // Claims: the dispatcher cannot take the deliveries while the disk refuses the lease.
    publish(10);
    vfs.fail_writes(SQLITE_IOERR_WRITE);
    REQUIRE(run_until([&] { return failed("claim"); }));
    CHECK(server.requests().empty());
    vfs.fail_writes(SQLITE_OK);
    REQUIRE(run_until([&] { return server.requests().size() >= 10; }));

    // Settles: the receiver answers while the disk refuses to record the answer.
    server.set_fault(test::Fault::slow);
    server.set_delay(300ms);
    publish(10);
    REQUIRE(run_until([&] { return server.requests().size() > 10; }));
    vfs.fail_writes(SQLITE_IOERR_WRITE);
    REQUIRE(run_until([&] { return failed("settle"); }));
    vfs.fail_writes(SQLITE_OK);

    const auto finished = [&] {
        for (const std::string& id : published) {
            const auto f = store->history().find(id);
            if (!f || f->status != FiringStatus::finished)
                return false;
        }
        return true;
    };
    REQUIRE(run_until(finished));
    // Every event's delivery reached the receiver.
    std::set<std::string> received;
    for (const auto& request : server.requests())
        received.insert(boost::json::parse(request.body).at("event").as_string().c_str());
    CHECK(received == events);
    CHECK(published.size() == 20);
    CHECK(store->outbox().pending_count() == 0);
}
