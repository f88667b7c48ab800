// The SQLite backend (herald::sqlite), in a Release build.
//
// BM_DurablePublish: `Engine::publish` on an SQLite database from 1 to 256 threads at once
// (threads that live across iterations, as a server's request threads do), 4,096 firings per
// iteration split between the threads. Every event fires `automations` webhook automations (1,
// or 10 — say deploy, notify and audit rules on one registry), so each publish commits that many
// firings, each with its delivery, before it returns. `max_batch` 1024 is herald's group commit
// (writes that arrive while a commit is in progress share the next transaction); `max_batch` 1
// commits one transaction per publish. `full_sync` 1 is the default: every commit is fsynced
// before the call returns (survives power loss); 0 is synchronous=NORMAL (commits survive a crash
// of the process, not of the machine).
//
// BM_DurablePublishAsync: `Engine::async_publish` from one thread, keeping up to `in_flight`
// publishes outstanding; handlers run on Asio's system executor.
//
// items_per_second = firings per second; cpu_us_per_firing = the process's CPU time (all
// threads) per firing, which depends less on the disk and on other load on the machine.
//
// BM_ClaimNextDue / BM_NextDue: an outbox holding 1,000,000 deliveries (see FullOutbox).
// BM_ClaimNextDue claims the next 1 or 64 due deliveries per call (one fsynced transaction);
// BM_NextDue asks when the next one is due. The rss_mb counters report the resident set after
// opening the empty database, after 100,000 and after 1,000,000 deliveries, and at the end of
// the benchmark.
#include <herald/engine.hpp>
#include <herald/sqlite/database.hpp>

#include <benchmark/benchmark.h>

#include <atomic>
#include <condition_variable>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <random>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace herald;

/// A fresh directory for one database, removed afterwards.
class Scratch {
  public:
    Scratch() {
        path_ = std::filesystem::temp_directory_path() /
                ("herald-bench-" + std::to_string(std::random_device{}()));
        std::filesystem::create_directories(path_);
    }
    ~Scratch() { std::filesystem::remove_all(path_); }
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;
    std::filesystem::path file() const { return path_ / "herald.db"; }

  private:
    std::filesystem::path path_;
};

double rss_mb() {
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);)
        if (line.starts_with("VmRSS:"))
            return std::stod(line.substr(6)) / 1024.0;
    return 0;
}

Event alias_event(int thread, int i) {
    return {.author = "grace",
            .entity = "acme",
            .project = "model-registry",
            .body = AliasAdded{.version = {.collection = "resnet",
                                           .collection_type = "model",
                                           .index = i,
                                           .uri = "wandb-artifact://_id/" + std::to_string(thread)},
                               .alias = "production"}};
}

/// A database and an engine whose every alias event fires `automations` webhook automations.
/// Arguments 0, 1 and the last of a benchmark: full_sync, max_batch, automations.
struct PublishRig {
    explicit PublishRig(const benchmark::State& state)
        : store(sqlite::open(scratch.file(),
                             {.synchronous_full = state.range(0) == 1,
                              .max_batch = static_cast<std::size_t>(state.range(1))})),
          automations(static_cast<int>(state.range(3))) {
        store->integrations().insert(WebhookIntegration{
            .entity = "acme", .name = "deploy", .url = "https://ci.example.com"});
        const Principal admin{.user = "admin", .roles = {Role::entity_admin("acme")}};
        for (int a = 0; a < automations; ++a)
            engine.automations().create(
                admin,
                Automation{.name = "deploy-" + std::to_string(a),
                           .scope = Scope::for_registry("acme", "model-registry"),
                           .trigger = trigger::AddArtifactAlias{.alias = Pattern{"production"}},
                           .action = action::Webhook{.integration = "deploy",
                                                     .payload = R"({"alias": "${alias}"})"}});
        restart_clock();
    }
    void restart_clock() { cpu_start = std::clock(); }
    /// Firings per second, and the process's CPU time (all threads) per firing: the cost apart
    /// from waiting for the disk.
    void report(benchmark::State& state, std::size_t firings) const {
        state.SetItemsProcessed(static_cast<std::int64_t>(firings));
        state.counters["cpu_us_per_firing"] = 1e6 * static_cast<double>(std::clock() - cpu_start) /
                                              CLOCKS_PER_SEC / static_cast<double>(firings);
        state.counters["outbox"] = static_cast<double>(store->outbox().pending_count());
    }

    Scratch scratch;
    std::shared_ptr<sqlite::Database> store;
    // No executor: nothing is delivered (and async_publish completes on Asio's system executor).
    Engine engine{{.storage = store}};
    const int automations;
    std::clock_t cpu_start{};
};

/// Publisher threads that live across the iterations, as a server's request threads do: each
/// `run` has every thread call `publish(thread)` and returns once all are done.
class Publishers {
  public:
    Publishers(int threads, std::function<void(int)> publish) : publish_(std::move(publish)) {
        for (int t = 0; t < threads; ++t)
            threads_.emplace_back([this, t](std::stop_token stop) { serve(t, stop); });
    }
    ~Publishers() {
        for (auto& t : threads_)
            t.request_stop();
        start_.notify_all();
    }
    void run() {
        std::unique_lock lock(mutex_);
        running_ = static_cast<int>(threads_.size());
        ++round_;
        start_.notify_all();
        done_.wait(lock, [&] { return running_ == 0; });
    }

  private:
    void serve(int thread, std::stop_token stop) {
        std::uint64_t seen = 0;
        std::unique_lock lock(mutex_);
        while (start_.wait(lock, stop, [&] { return round_ != seen; })) {
            seen = round_;
            lock.unlock();
            publish_(thread);
            lock.lock();
            if (--running_ == 0)
                done_.notify_one();
        }
    }

    std::function<void(int)> publish_;
    std::mutex mutex_;
    std::condition_variable_any start_;
    std::condition_variable done_;
    std::uint64_t round_ = 0;
    int running_ = 0;
    std::vector<std::jthread> threads_;  ///< last: they use the members above
};

void BM_DurablePublish(benchmark::State& state) {
    PublishRig rig(state);
    const int threads = static_cast<int>(state.range(2));
    const int events_per_thread = 4096 / rig.automations / threads;
    std::atomic<std::size_t> firings = 0;
    Publishers publishers(threads, [&](int thread) {
        for (int i = 0; i < events_per_thread; ++i)
            firings += rig.engine.publish(alias_event(thread, i)).firings.size();
    });
    rig.restart_clock();
    for (auto _ : state)
        publishers.run();
    rig.report(state, firings);
}

BENCHMARK(BM_DurablePublish)
    ->ArgNames({"full_sync", "max_batch", "threads", "automations"})
    ->ArgsProduct({{1}, {1024, 1}, {1, 8, 64, 256}, {1}})
    ->ArgsProduct({{1}, {1024, 1}, {64}, {10}})
    ->Args({0, 1024, 256, 1})
    ->Args({0, 1024, 64, 10})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

/// Publishes from one thread through `Engine::async_publish`, keeping up to `in_flight`
/// publishes outstanding: it waits when that many are, until half of them completed.
class InFlightWindow {
  public:
    explicit InFlightWindow(std::size_t limit) : limit_(limit) {}
    void acquire() {
        std::unique_lock lock(mutex_);
        room_.wait(lock, [&] { return outstanding_ < limit_; });
        ++outstanding_;
    }
    void release(std::size_t firings, bool failed) {
        std::lock_guard lock(mutex_);
        --outstanding_;
        firings_ += firings;
        failures_ += failed ? 1 : 0;
        if (outstanding_ == limit_ / 2 || outstanding_ == 0)
            room_.notify_all();
    }
    /// Waits until nothing is outstanding; the firings recorded so far.
    std::size_t drain() {
        std::unique_lock lock(mutex_);
        room_.wait(lock, [&] { return outstanding_ == 0; });
        return firings_;
    }
    std::size_t failures() {
        std::lock_guard lock(mutex_);
        return failures_;
    }

  private:
    const std::size_t limit_;
    std::mutex mutex_;
    std::condition_variable room_;
    std::size_t outstanding_ = 0, firings_ = 0, failures_ = 0;
};

void BM_DurablePublishAsync(benchmark::State& state) {
    PublishRig rig(state);
    const int events = 4096 / rig.automations;
    InFlightWindow window(static_cast<std::size_t>(state.range(2)));
    for (auto _ : state) {
        for (int i = 0; i < events; ++i) {
            window.acquire();
            rig.engine.async_publish(alias_event(0, i),
                                     [&](boost::system::error_code ec, PublishReceipt receipt) {
                                         window.release(receipt.firings.size(), ec.failed());
                                     });
        }
        window.drain();
    }
    if (window.failures() > 0)
        state.SkipWithError("a publish failed");
    rig.report(state, window.drain());
}
BENCHMARK(BM_DurablePublishAsync)
    ->ArgNames({"full_sync", "max_batch", "in_flight", "automations"})
    ->ArgsProduct({{1}, {1024, 1}, {64, 1024, 4096}, {1}})
    ->ArgsProduct({{1}, {1024, 1}, {1024}, {10}})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

/// An outbox of 1,000,000 deliveries, built once for the benchmarks below: 250,000 waiting
/// where publishing leaves them (in their firings' history rows), 250,000 waiting in the outbox
/// table (as retries wait), all due at times spread over the day before `now`, and 500,000
/// dead letters.
struct FullOutbox {
    static constexpr int total = 1'000'000, batch = 10'000;
    const Timestamp now{std::chrono::hours{500'000}};
    Scratch scratch;
    std::shared_ptr<sqlite::Database> store = sqlite::open(scratch.file());
    double rss_empty = rss_mb(), rss_100k = 0, rss_full = 0;

    FullOutbox() {
        std::mt19937 rng(7);
        for (int first = 0; first < total; first += batch) {
            add(first, rng);
            if (first + batch == 100'000)
                rss_100k = rss_mb();
        }
        rss_full = rss_mb();
        // Closing copies the WAL into the file, so that no checkpoint of the building runs in
        // the background of what is measured.
        store.reset();
        store = sqlite::open(scratch.file());
    }
    void add(int first, std::mt19937& rng) {
        std::vector<Firing> published;
        std::vector<NewDelivery> recorded;
        std::vector<Delivery> enqueued;
        std::vector<OutboxUpdate> dead;
        for (int i = 0; i < batch; ++i) {
            const Firing f{.id = "delivery-" + std::to_string(first + i),
                           .automation_id = "automation-" + std::to_string((first + i) % 1000),
                           .event = alias_event(0, first + i),
                           .time = now - std::chrono::hours{24}};
            const Action webhook =
                action::Webhook{.integration = "deploy", .payload = R"({"a": 1})"};
            const Timestamp due = now - std::chrono::seconds{rng() % 86'400};
            if (i % 4 == 0) {
                recorded.push_back({.firing = published.size(),
                                    .action = webhook,
                                    .trigger = TriggerKind::add_artifact_alias,
                                    .due = due});
                published.push_back(f);
                continue;
            }
            enqueued.push_back({.firing = f,
                                .action = webhook,
                                .trigger = TriggerKind::add_artifact_alias,
                                .due = due});
            if (i % 4 >= 2)
                dead.push_back(
                    {.delivery_id = f.id, .kind = OutboxUpdate::Kind::dead_letter, .attempts = 8});
        }
        store->record_firings(published, recorded);
        store->outbox().enqueue(enqueued);
        store->outbox().settle(dead);
    }
    void report(benchmark::State& state) const {
        state.counters["rss_mb_empty"] = rss_empty;
        state.counters["rss_mb_100k"] = rss_100k;
        state.counters["rss_mb_1M"] = rss_full;
        state.counters["rss_mb_now"] = rss_mb();
        state.counters["waiting"] = static_cast<double>(store->outbox().pending_count());
        state.counters["file_mb"] =
            static_cast<double>(std::filesystem::file_size(scratch.file())) / (1 << 20);
    }
};

FullOutbox& full_outbox() {
    static FullOutbox outbox;
    return outbox;
}

/// Claims the next `limit` due deliveries (one transaction, fsynced: the lookups in both parts
/// of the outbox, the leases); each stays leased, so the next claim takes the next ones.
/// cpu_us_per_call is the process's CPU time (the claim runs on the committer's thread).
void BM_ClaimNextDue(benchmark::State& state) {
    FullOutbox& full = full_outbox();
    const auto limit = static_cast<std::size_t>(state.range(0));
    std::size_t claimed = 0;
    const std::clock_t cpu_start = std::clock();
    for (auto _ : state)
        claimed +=
            full.store->outbox().claim(full.now, limit, full.now + std::chrono::hours{1}).size();
    state.counters["cpu_us_per_call"] = 1e6 * static_cast<double>(std::clock() - cpu_start) /
                                        CLOCKS_PER_SEC / static_cast<double>(state.iterations());
    state.SetItemsProcessed(static_cast<std::int64_t>(claimed));
    full.report(state);
}
BENCHMARK(BM_ClaimNextDue)
    ->ArgName("limit")
    ->Arg(1)
    ->Arg(64)
    ->Unit(benchmark::kMicrosecond)
    ->Iterations(2000);

/// When the next delivery becomes due: what the dispatcher asks to know how long to sleep.
void BM_NextDue(benchmark::State& state) {
    FullOutbox& full = full_outbox();
    for (auto _ : state)
        benchmark::DoNotOptimize(full.store->outbox().next_due());
    full.report(state);
}
BENCHMARK(BM_NextDue)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
