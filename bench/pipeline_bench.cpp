// The whole durable path, publish → delivered, as a host feels it: events published through
// `Engine::async_publish` (each fires one signed webhook), recorded on the chosen storage, then
// claimed, sent to an HTTP sink and settled by the dispatcher. Run by bench/run_pipeline_bench.sh
// next to wrk on the same sink; usable alone:
//
//   bench_pipeline --url http://127.0.0.1:8080/hook --storage sqlite --connections 64
//                  --events 50000 --mode stream
//
// --storage sqlite  a fresh database file in a temporary folder, default options (synchronous
//                   FULL: every acknowledged write is fsynced, through group commit)
// --storage memory  MemoryStorage
// --storage postgres  a fresh schema in the PostgreSQL database --postgres CONNINFO names
//                   (herald::postgres, default options), named bench_<pid>
// --mode stream     publishing and delivering at once; the clock runs from the first publish to
//                   the moment the outbox is empty with every delivery settled
// --mode backlog    everything is published first (timed apart: published_per_s, durable
//                   firings/s through async_publish), then the dispatcher starts: the clock runs
//                   from its start until the outbox is empty
// --engines N       (postgres) N engines deliver from the one schema, each with a database
//                   connection pool, a dispatcher and a thread of its own (in this process, so
//                   that the CPU per delivery counts them all); in stream mode the first also
//                   publishes
// --https           the URL is https: verify against --ca-file
// --old-firings N   (sqlite) N settled firings 60 days old are recorded first (not timed), as a
//                   history that was never pruned holds them
// --prune on        (sqlite) `Engine::prune` (the default policy: 30 days) runs on a thread of
//                   its own from the start of the clock, beside publishing and delivery; the
//                   line adds how long it took, what it pruned, and the file's size after seeding,
//                   after the run and after a VACUUM
//
// Prints one line of `key=value` pairs: deliveries/s and the herald process's CPU time per
// delivery (all its threads: publisher, dispatcher, storage), plus what was delivered and what
// the metrics counted (herald_deliveries_total{outcome="success"}; the engine and the database
// record into one herald::Metrics and log at info to stderr, as a host would run them).
#include "bench_storage.hpp"
#include "flags.hpp"
#include "process_usage.hpp"
#include "publish_window.hpp"
#include "webhook_automation.hpp"

#include <herald/engine.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include <sqlite3.h>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

using herald::bench::add_webhook_automation;
using herald::bench::alias_event;
using herald::bench::process_cpu_seconds;
using herald::bench::publish_all;

struct Options {
    std::string url;
    herald::bench::StorageChoice storage;
    std::string mode = "stream";
    std::string ca_file;
    std::size_t connections = 64;
    std::size_t events = 50'000;
    std::size_t window = 4096;  ///< async_publish calls in flight at once
    std::size_t old_firings = 0;
    std::size_t engines = 1;
    bool prune = false;
};

[[noreturn]] void usage(const std::string& why) {
    std::cerr << "bench_pipeline: " << why
              << "\nusage: bench_pipeline --url URL [--storage sqlite|memory|postgres] [--postgres "
                 "CONNINFO] [--mode stream|backlog] [--connections N] [--events N] [--ca-file "
                 "PATH] [--engines N]\n";
    std::exit(2);
}

Options parse(int argc, char** argv) {
    Options o;
    herald::bench::for_each_flag(
        argc, argv,
        [&](const std::string& flag, const std::string& value) {
            if (o.storage.take(flag, value))
                return;
            if (flag == "--url")
                o.url = value;
            else if (flag == "--mode")
                o.mode = value;
            else if (flag == "--ca-file")
                o.ca_file = value;
            else if (flag == "--connections")
                o.connections = std::stoul(value);
            else if (flag == "--events")
                o.events = std::stoul(value);
            else if (flag == "--old-firings")
                o.old_firings = std::stoul(value);
            else if (flag == "--engines")
                o.engines = std::stoul(value);
            else if (flag == "--prune")
                o.prune = value == "on";
            else
                usage("unknown flag " + flag);
        },
        usage);
    if (o.url.empty())
        usage("--url is required");
    if (const std::string problem = o.storage.problem(); !problem.empty())
        usage(problem);
    if (o.mode != "stream" && o.mode != "backlog")
        usage("--mode: stream or backlog");
    if (o.engines == 0 || (o.engines > 1 && o.storage.kind != "postgres"))
        usage("--engines: 1, or more with --storage postgres");
    if ((o.old_firings > 0 || o.prune) && o.storage.kind != "sqlite")
        usage("--old-firings and --prune: with --storage sqlite");
    return o;
}

/// Records `count` settled firings 60 days old, each as a delivered webhook's record looks (the
/// payload sent, one attempt with the receiver's answer), in transactions of 10,000.
void record_old_firings(herald::Storage& storage, std::size_t count) {
    const herald::Timestamp old = herald::SystemClock().now() - std::chrono::days{60};
    std::vector<herald::Firing> batch;
    for (std::size_t i = 0; i < count;) {
        batch.clear();
        for (; batch.size() < 10'000 && i < count; ++i) {
            herald::Firing f{
                .id = "old-" + std::to_string(i),
                .automation_id = "old",
                .automation_name = "promote",
                .action = herald::ActionKind::webhook,
                .event = alias_event(i),
                .time = old + std::chrono::milliseconds{i},
                .reason = "alias production added",
                .status = herald::FiringStatus::finished,
                .integration = "sink",
                .payload = R"({"event":"ALIAS_ADDED","alias":"production","version":)" +
                           std::to_string(i) + "}"};
            f.event.id = f.id;
            f.event.time = f.time;
            f.attempts.push_back({.number = 1,
                                  .time = f.time,
                                  .status_code = 200,
                                  .latency = 2ms,
                                  .response_body = "ok"});
            batch.push_back(std::move(f));
        }
        storage.record_firings(batch, {});
    }
}

/// The size of an SQLite database: its file and its WAL.
std::uintmax_t database_bytes(const std::filesystem::path& file) {
    std::uintmax_t bytes = std::filesystem::file_size(file);
    std::error_code ec;
    const std::uintmax_t wal = std::filesystem::file_size(file.string() + "-wal", ec);
    return ec ? bytes : bytes + wal;
}

/// Runs VACUUM on a closed database file (what an operator does with herald stopped).
void vacuum(const std::filesystem::path& file) {
    sqlite3* db = nullptr;
    if (sqlite3_open(file.c_str(), &db) != SQLITE_OK ||
        sqlite3_exec(db, "VACUUM; PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr) !=
            SQLITE_OK) {
        std::cerr << "vacuum: " << sqlite3_errmsg(db) << '\n';
        std::exit(1);
    }
    sqlite3_close(db);
}

}  // namespace

int main(int argc, char** argv) {
    const Options options = parse(argc, argv);
    const boost::urls::url url = boost::urls::parse_uri(options.url).value();
    const std::string host(url.host());

    // Counted as a host would: one Metrics for the engine and the database, a logger at info.
    auto metrics = std::make_shared<herald::Metrics>();
    const herald::Logger logger(herald::LogLevel::info, [](const herald::LogRecord& r) {
        std::fprintf(stderr, "%s\n", herald::format_log_line(r).c_str());
    });
    herald::bench::BenchStorage bench(options.storage, "bench",
                                      {.logger = logger, .metrics = metrics});
    std::shared_ptr<herald::Storage> storage = bench.storage;
    const std::filesystem::path& folder = bench.folder;
    const auto secrets = std::make_shared<herald::MemorySecretStore>();

    // What every engine is built with, over `on` (its storage) and `io` (its executor).
    const auto config_of = [&](std::shared_ptr<herald::Storage> on, asio::io_context& io) {
        herald::EngineConfig config;
        config.storage = std::move(on);
        config.secrets = secrets;
        config.metrics = metrics;
        config.dispatch.http.ssrf.allowed_subnets = {"127.0.0.1/32"};
        config.dispatch.http.max_in_flight_per_endpoint = options.connections;
        if (!options.ca_file.empty())
            config.dispatch.http.ca_file = options.ca_file;
        config.resolver = std::make_shared<herald::StaticResolver>(
            io.get_executor(),
            herald::StaticResolver::Table{{"sink.test", {asio::ip::make_address(host)}}});
        return config;
    };
    asio::io_context setup_io;
    const herald::EngineConfig config = config_of(storage, setup_io);
    boost::urls::url target = url;
    target.set_host("sink.test");
    {
        herald::Engine setup{config};
        add_webhook_automation(setup, std::string(target.buffer()));
    }

    std::uintmax_t seeded_bytes = 0;
    if (options.old_firings > 0) {
        record_old_firings(*storage, options.old_firings);
        seeded_bytes = database_bytes(folder / "herald.db");
    }
    double publish_seconds = 0;
    if (options.mode == "backlog") {
        // Recorded by an engine that does not deliver, then carried out by one that does.
        herald::Engine publisher{config};
        const auto begun = std::chrono::steady_clock::now();
        publish_all(publisher, options.events, options.window, alias_event);
        publish_seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - begun).count();
    }
    // The delivering engines: the first over `storage`, the others each over the schema opened
    // anew; each runs on an io_context and a thread of its own.
    struct Deliverer {
        asio::io_context io;
        std::unique_ptr<herald::Engine> engine;
        std::thread runner;
    };
    std::vector<std::unique_ptr<Deliverer>> deliverers;
    for (std::size_t i = 0; i < options.engines; ++i) {
        auto d = std::make_unique<Deliverer>();
        d->engine = std::make_unique<herald::Engine>(
            d->io.get_executor(), config_of(i == 0 ? storage : bench.open_again(), d->io));
        deliverers.push_back(std::move(d));
    }
    herald::Engine& engine = *deliverers.front()->engine;

    const auto started = std::chrono::steady_clock::now();
    const double cpu_before = process_cpu_seconds();
    for (const auto& d : deliverers)
        d->runner = std::thread([&io = d->io] {
            auto work = asio::make_work_guard(io);
            io.run();
        });
    herald::PruneResult pruned;
    double prune_seconds = 0;
    std::thread pruner;
    if (options.prune)
        pruner = std::thread([&] {
            const auto begun = std::chrono::steady_clock::now();
            pruned = engine.prune();
            prune_seconds =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - begun).count();
        });
    if (options.mode == "stream")
        publish_all(engine, options.events, options.window, alias_event);
    // Every delivery settles within seconds against a healthy sink; one that keeps failing is
    // retried for hours, so the run gives up after two minutes and says so.
    const auto give_up = started + 2min;
    while (storage->outbox().pending_count() > 0 && std::chrono::steady_clock::now() < give_up)
        std::this_thread::sleep_for(20ms);  // counting reads the database: not too often
    const auto elapsed = std::chrono::steady_clock::now() - started;
    const double cpu = process_cpu_seconds() - cpu_before;
    if (pruner.joinable())
        pruner.join();

    for (const auto& d : deliverers) {
        std::atomic<bool> stopped = false;
        d->engine->dispatcher().async_stop(5s, [&](boost::system::error_code) { stopped = true; });
        while (!stopped)
            std::this_thread::sleep_for(1ms);
        d->io.stop();
        d->runner.join();
    }

    herald::HistoryQuery all;
    all.limit = options.events + 1;
    std::size_t finished = 0;
    for (const herald::Firing& f : storage->history().query(all))
        finished += f.status == herald::FiringStatus::finished && f.automation_id != "old" ? 1 : 0;
    const herald::MetricsSnapshot figures = metrics->snapshot();
    const herald::MetricLabel success[] = {{"outcome", "success"}};
    const double counted = figures.value("herald_deliveries_total", success).value_or(0);
    deliverers.clear();
    storage.reset();
    bench.storage.reset();  // closed, for the VACUUM below
    std::string extra;
    if (publish_seconds > 0)
        extra += " published_per_s=" + std::to_string(static_cast<long>(
                                           static_cast<double>(options.events) / publish_seconds));
    if (options.old_firings > 0 || options.prune) {
        const std::filesystem::path file = folder / "herald.db";
        const std::uintmax_t after = database_bytes(file);
        vacuum(file);
        extra += " pruned=" + std::to_string(pruned.firings) +
                 " prune_batches=" + std::to_string(pruned.batches) +
                 " prune_seconds=" + std::to_string(prune_seconds) +
                 " db_mb_seeded=" + std::to_string(seeded_bytes >> 20) +
                 " db_mb_after=" + std::to_string(after >> 20) +
                 " db_mb_vacuumed=" + std::to_string(database_bytes(file) >> 20);
    }

    const double seconds = std::chrono::duration<double>(elapsed).count();
    std::printf(
        "storage=%s mode=%s engines=%zu connections=%zu events=%zu finished=%zu seconds=%.3f "
        "deliveries_per_s=%.0f cpu_us_per_delivery=%.1f counted_successes=%.0f%s\n",
        options.storage.kind.c_str(), options.mode.c_str(), options.engines, options.connections,
        options.events, finished, seconds, static_cast<double>(options.events) / seconds,
        cpu * 1e6 / static_cast<double>(options.events), counted, extra.c_str());
    return finished == options.events ? 0 : 1;
}
