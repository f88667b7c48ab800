// The soak run: publish and delivery for a chosen time at a fixed rate, against receivers that
// fail, stall and recover, then checks that herald lost nothing and stayed flat. Run by
// bench/run_soak.sh; usable alone:
//
//   bench_soak --seconds 600 --rate 50 --receivers 4 --seed 1
//
// What runs, all in this process: the default storage (SQLite, a fresh file in a temporary
// folder, default options), an Engine with its dispatcher on one thread, and `--receivers`
// loopback receivers (herald::test::TestServer, keeping nothing per request), each the target of
// one signed webhook automation. Every event fires all of them: `--rate` events per second make
// rate × receivers deliveries per second. Each receiver, on a schedule drawn from `--seed`,
// answers 200 for 15–45 s, then spends 3–15 s in one fault — 500, 429 with `Retry-After: 1`,
// stalling (never answering), resetting the connection, or answering 200 after 300 ms — and
// recovers. Publishing stops after `--seconds`; the receivers then recover for good and the
// outbox drains (at most `--drain-seconds`).
//
// Nothing should die: a fault lasts at most 15 s and a healthy stretch at least 15 s, while the
// retry schedule here (14 attempts over about 56 s, no wait longer than 6 s ± 20 % jitter, plus a
// 2 s request timeout) always lands an attempt in the next healthy stretch. A delivery that goes
// dead, or never reaches its receiver, is lost.
//
// Every `--interval` seconds (default a tenth of the run, at least 5 s) it prints one row for the
// deliveries first received in it: latency from publish to the first request a receiver answered
// with 200 (p50, p99, max; "first try" when that was the delivery's first request), the same for
// the deliveries of healthy receivers only (healthy since before the event was published, for
// longer than the breaker stays open: what herald's own path costs while others fail), herald's
// CPU time per delivery (the process less the receivers' threads, getrusage and /proc), peak RSS
// and open file descriptors (sampled every `--sample-seconds`), the outbox's pending deliveries
// and the faults begun.
//
// Checks, each printed as ok or FAILED; the exit status is 1 when one fails:
//   publish    every async_publish was recorded, each with one firing per receiver
//   lost       every delivery (event × receiver) was answered 200 at least once
//   ids        every request of a delivery carried the same X-Herald-Delivery id, the firing's id
//   history    every firing is Finished (none pending, failed or dead), one per delivery
//   rss        the last interval's peak RSS is at most --rss-growth-mib above the first's
//   fds        once drained and the pool's idle connections closed, at most --fd-growth fds more
//              than before publishing; never more than two per connection herald may open
//              (its end and the receiver's) above that, plus --fd-growth
//   p99        healthy receivers' p99 in the last interval is at most --p99-factor times the
//              first's, plus 50 ms (the p99 of all deliveries is the faults' length: reported)
// Duplicates (a delivery answered 200 more than once) are counted, not failed: delivery is at
// least once.
#include "flags.hpp"
#include "process_usage.hpp"
#include "webhook_automation.hpp"

#include "support/test_server.hpp"

#include <herald/engine.hpp>
#include <herald/sqlite/database.hpp>

#include <boost/asio/io_context.hpp>

#include <sqlite3.h>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using herald::test::Fault;
using herald::test::TestServer;
using Clock = std::chrono::steady_clock;
using herald::bench::admin;
using herald::bench::alias_event;
using herald::bench::open_fds;
using herald::bench::process_cpu_seconds;
using herald::bench::rss_mib;
using herald::bench::thread_cpu_seconds;

struct Options {
    std::size_t seconds = 600;
    std::size_t rate = 50;  ///< events per second
    std::size_t receivers = 4;
    std::size_t interval = 0;  ///< seconds; 0: a tenth of the run, at least 5
    std::size_t sample_seconds = 2;
    std::size_t drain_seconds = 120;
    std::uint32_t seed = 1;
    double rss_growth_mib = 8;
    std::size_t fd_growth = 4;
    double p99_factor = 2;
};

[[noreturn]] void usage(const std::string& why) {
    std::cerr << "bench_soak: " << why
              << "\nusage: bench_soak [--seconds N] [--rate EVENTS_PER_S] [--receivers N] "
                 "[--interval S] [--sample-seconds S] [--drain-seconds S] [--seed N] "
                 "[--rss-growth-mib X] [--fd-growth N] [--p99-factor X]\n";
    std::exit(2);
}

void parse_flag(Options& o, const std::string& flag, const std::string& value) {
    if (flag == "--seconds")
        o.seconds = std::stoul(value);
    else if (flag == "--rate")
        o.rate = std::stoul(value);
    else if (flag == "--receivers")
        o.receivers = std::stoul(value);
    else if (flag == "--interval")
        o.interval = std::stoul(value);
    else if (flag == "--sample-seconds")
        o.sample_seconds = std::stoul(value);
    else if (flag == "--drain-seconds")
        o.drain_seconds = std::stoul(value);
    else if (flag == "--seed")
        o.seed = static_cast<std::uint32_t>(std::stoul(value));
    else if (flag == "--rss-growth-mib")
        o.rss_growth_mib = std::stod(value);
    else if (flag == "--fd-growth")
        o.fd_growth = std::stoul(value);
    else if (flag == "--p99-factor")
        o.p99_factor = std::stod(value);
    else
        usage("unknown flag " + flag);
}

Options parse(int argc, char** argv) {
    Options o;
    herald::bench::for_each_flag(
        argc, argv,
        [&](const std::string& flag, const std::string& value) { parse_flag(o, flag, value); },
        usage);
    if (o.seconds == 0 || o.rate == 0 || o.receivers == 0 || o.sample_seconds == 0)
        usage("--seconds, --rate, --receivers and --sample-seconds must be positive");
    if (o.interval == 0)
        o.interval = std::max<std::size_t>(5, o.seconds / 10);
    if (o.interval > o.seconds)
        usage("--interval longer than --seconds");
    return o;
}

// ---- the ledger: what was published and what arrived ---------------------------------------

/// One delivery: one event's webhook to one receiver.
struct Slot {
    std::int64_t first_ok_ns = -1;  ///< since the run's start; -1 until answered 200
    std::size_t id_hash = 0;        ///< of the X-Herald-Delivery id its first request carried
    std::uint16_t requests = 0;
    std::uint16_t answered_ok = 0;
    bool first_try = false;  ///< its first request was answered 200
    /// Answered 200 by a receiver that had been healthy since before the event was published,
    /// long enough for its breaker to have closed (`recovery`): what herald's own path costs,
    /// with the other receivers' faults around it.
    bool healthy = false;
};

/// Every event's publish time and every delivery's slot, allocated (and touched) before the run
/// starts so that the ledger does not grow the RSS the run watches. Thread-safe.
class Ledger {
  public:
    Ledger(std::size_t events, std::size_t receivers, Clock::time_point start,
           Clock::duration recovery)
        : receivers_(receivers),
          start_(start),
          recovery_ns_(recovery / 1ns),
          healthy_since_ns_(receivers, -recovery_ns_),  // healthy, breaker closed, from the start
          published_ns_(events, -1),
          slots_(events * receivers) {}

    std::int64_t now_ns() const { return (Clock::now() - start_) / 1ns; }
    Clock::time_point start() const { return start_; }
    std::size_t receivers() const { return receivers_; }
    std::size_t events() const { return published_ns_.size(); }

    void published(std::size_t event) {
        std::lock_guard lock(mutex_);
        published_ns_[event] = now_ns();
    }

    /// `receiver` is told to fail from now on (call before it is).
    void fault_began(std::size_t receiver) {
        std::lock_guard lock(mutex_);
        healthy_since_ns_[receiver].reset();
    }
    /// `receiver` was told to answer 200 again (call after it is).
    void fault_ended(std::size_t receiver) {
        std::lock_guard lock(mutex_);
        healthy_since_ns_[receiver] = now_ns();
    }

    /// A request to `receiver` for `event`'s delivery, answered as `fault` answers.
    void arrived(std::size_t receiver, std::size_t event, std::string_view delivery_id,
                 Fault fault) {
        const std::int64_t now = now_ns();
        const std::size_t hash = std::hash<std::string_view>{}(delivery_id);
        const bool ok = fault == Fault::ok || fault == Fault::slow;
        std::lock_guard lock(mutex_);
        if (event >= published_ns_.size() || published_ns_[event] < 0) {
            ++counts_.unknown;
            return;
        }
        Slot& slot = slots_[event * receivers_ + receiver];
        if (slot.requests++ == 0) {
            slot.id_hash = hash;
            slot.first_try = ok;
        } else if (slot.id_hash != hash) {
            ++counts_.id_mismatches;
        }
        ++counts_.requests;
        if (!ok)
            return;
        if (slot.answered_ok++ == 0) {
            slot.first_ok_ns = now;
            const std::optional<std::int64_t> healthy_since = healthy_since_ns_[receiver];
            slot.healthy = fault == Fault::ok && healthy_since &&
                           *healthy_since + recovery_ns_ <= published_ns_[event];
        } else {
            ++counts_.duplicates;
        }
    }

    /// Calls `f(slot, latency_ns)` for each delivery first answered 200 in [from_ns, to_ns).
    template <class F>
    void for_each_received(std::int64_t from_ns, std::int64_t to_ns, F f) const {
        std::lock_guard lock(mutex_);
        for (std::size_t i = 0; i < slots_.size(); ++i) {
            const Slot& s = slots_[i];
            if (s.first_ok_ns >= from_ns && s.first_ok_ns < to_ns)
                f(s, s.first_ok_ns - published_ns_[i / receivers_]);
        }
    }

    /// Calls `f(event, receiver, slot)` for every delivery of the events published.
    template <class F>
    void for_each_published(F f) const {
        std::lock_guard lock(mutex_);
        for (std::size_t i = 0; i < slots_.size(); ++i)
            if (published_ns_[i / receivers_] >= 0)
                f(i / receivers_, i % receivers_, slots_[i]);
    }

    /// What arrived so far, counted.
    struct Counts {
        std::size_t requests = 0;
        std::size_t duplicates = 0;     ///< a delivery answered 200 once more
        std::size_t id_mismatches = 0;  ///< a request with another id than its delivery's first
        std::size_t unknown = 0;        ///< a request for no published event (a malformed body)
    };
    Counts counts() const {
        std::lock_guard lock(mutex_);
        return counts_;
    }

  private:
    const std::size_t receivers_;
    const Clock::time_point start_;
    const std::int64_t recovery_ns_;
    mutable std::mutex mutex_;
    std::vector<std::optional<std::int64_t>> healthy_since_ns_;  ///< per receiver; unset: failing
    std::vector<std::int64_t> published_ns_;
    std::vector<Slot> slots_;
    Counts counts_;
};

/// The event index in a payload `{"seq": "N", ...}` (as herald renders it, spacing aside);
/// nullopt when it has none.
std::optional<std::size_t> sequence_of(std::string_view body) {
    constexpr std::string_view key = "\"seq\"";
    const std::size_t at = body.find(key);
    if (at == std::string_view::npos)
        return std::nullopt;
    const std::size_t digits = body.find_first_not_of(": \"", at + key.size());
    if (digits == std::string_view::npos)
        return std::nullopt;
    std::size_t value = 0;
    const auto [end, ec] = std::from_chars(body.data() + digits, body.data() + body.size(), value);
    return ec == std::errc{} ? std::optional(value) : std::nullopt;
}

// ---- the receivers and their faults --------------------------------------------------------

/// The faults a receiver passes through, each for 3–15 s between healthy stretches of 15–45 s.
constexpr std::array faults = {Fault::server_error, Fault::too_many_requests, Fault::stall,
                               Fault::reset, Fault::slow};
constexpr std::array<const char*, faults.size()> fault_names = {"500", "429", "stall", "reset",
                                                                "slow 200"};

/// A receiver and the CPU time of its server thread.
struct Receiver {
    std::unique_ptr<TestServer> server;
    std::shared_ptr<std::atomic<pid_t>> thread_id = std::make_shared<std::atomic<pid_t>>(0);
};

std::vector<Receiver> start_receivers(Ledger& ledger, std::size_t count) {
    std::vector<Receiver> receivers(count);
    for (std::size_t r = 0; r < count; ++r) {
        auto thread_id = receivers[r].thread_id;
        herald::test::TestServerOptions options;
        options.keep_requests = false;
        options.on_request = [&ledger, r, thread_id](const herald::test::ReceivedRequest& request,
                                                     Fault fault) {
            if (thread_id->load(std::memory_order_relaxed) == 0)
                thread_id->store(::gettid(), std::memory_order_relaxed);
            ledger.arrived(r, sequence_of(request.body).value_or(ledger.events()),
                           request.header("X-Herald-Delivery"), fault);
        };
        receivers[r].server = std::make_unique<TestServer>(std::move(options));
        receivers[r].server->set_retry_after("1");
        receivers[r].server->set_delay(300ms);
    }
    return receivers;
}

double receivers_cpu_seconds(const std::vector<Receiver>& receivers) {
    double total = 0;
    for (const Receiver& r : receivers)
        if (const pid_t tid = r.thread_id->load(std::memory_order_relaxed); tid != 0)
            total += thread_cpu_seconds(tid);
    return total;
}

/// Switches each receiver between health and faults on a seeded schedule, on a thread of its
/// own, until stopped; then every receiver is healthy for good.
class Chaos {
  public:
    Chaos(std::vector<Receiver>& receivers, Ledger& ledger, std::uint32_t seed)
        : ledger_(ledger), random_(seed) {
        // Staggered, so the receivers do not fail together.
        for (std::size_t r = 0; r < receivers.size(); ++r)
            phases_.push_back({.receiver = r,
                               .server = receivers[r].server.get(),
                               .until = Clock::now() + draw(5s, 45s)});
        thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
    }

    /// Stops switching and heals every receiver.
    void stop() {
        thread_.request_stop();
        thread_.join();
        for (Phase& p : phases_)
            if (p.fault)
                heal(p);
    }

    /// The faults begun so far, by kind.
    std::array<std::size_t, faults.size()> begun() const {
        std::lock_guard lock(mutex_);
        return begun_;
    }
    /// The receiver-seconds spent in each fault so far (a fault under way counts in full).
    std::array<double, faults.size()> seconds() const {
        std::lock_guard lock(mutex_);
        return seconds_;
    }

  private:
    struct Phase {
        std::size_t receiver;
        TestServer* server;
        std::optional<std::size_t> fault;  ///< index into `faults`; nullopt: healthy
        Clock::time_point until;
    };

    Clock::duration draw(Clock::duration low, Clock::duration high) {
        return std::uniform_int_distribution<Clock::rep>(low.count(), high.count())(random_) *
               Clock::duration{1};
    }

    void run(const std::stop_token& stop) {
        while (!stop.stop_requested()) {
            const auto now = Clock::now();
            for (Phase& p : phases_) {
                if (now < p.until)
                    continue;
                if (p.fault) {
                    heal(p);
                    p.until = now + draw(15s, 45s);
                    continue;
                }
                const std::size_t kind =
                    std::uniform_int_distribution<std::size_t>(0, faults.size() - 1)(random_);
                const auto length = draw(3s, 15s);
                p.fault = kind;
                ledger_.fault_began(p.receiver);
                p.server->set_fault(faults[kind]);
                p.until = now + length;
                std::lock_guard lock(mutex_);
                ++begun_[kind];
                seconds_[kind] += std::chrono::duration<double>(length).count();
            }
            std::this_thread::sleep_for(50ms);
        }
    }

    void heal(Phase& p) {
        p.fault.reset();
        p.server->set_fault(Fault::ok);
        ledger_.fault_ended(p.receiver);
    }

    Ledger& ledger_;
    std::mt19937_64 random_;
    std::vector<Phase> phases_;
    mutable std::mutex mutex_;
    std::array<std::size_t, faults.size()> begun_{};
    std::array<double, faults.size()> seconds_{};
    std::jthread thread_;
};

// ---- herald ---------------------------------------------------------------------------------

std::string integration_name(std::size_t receiver) {
    return "receiver-" + std::to_string(receiver);
}

/// One signed webhook automation per receiver, each firing on every event.
void add_automations(herald::Engine& engine, const std::vector<Receiver>& receivers) {
    engine.secrets().put(admin, "acme", "SIGNING_KEY", "soak-signing-key");
    for (std::size_t r = 0; r < receivers.size(); ++r) {
        engine.integrations().create(
            admin, herald::WebhookIntegration{.entity = "acme",
                                              .name = integration_name(r),
                                              .url = receivers[r].server->url("/hook"),
                                              .signing_secret = "SIGNING_KEY"});
        engine.automations().create(
            admin,
            herald::Automation{
                .name = "deploy-" + std::to_string(r),
                .scope = herald::Scope::for_project("acme", "reg"),
                .trigger =
                    herald::trigger::AddArtifactAlias{.alias = herald::Pattern{"production"}},
                .action = herald::action::Webhook{
                    .integration = integration_name(r),
                    .payload = R"({"seq": "${artifact_version_index}", "alias": "${alias}"})"}});
    }
}

constexpr std::size_t connections_per_receiver = 32;
constexpr auto idle_timeout = 5s;

herald::DispatcherConfig dispatch_config() {
    herald::DispatcherConfig config;
    config.http.ssrf.allowed_subnets = {"127.0.0.1/32"};
    // A stalled receiver costs an attempt 2 s, not the default 15 s.
    config.http.connect_timeout = 1s;
    config.http.total_timeout = 2s;
    config.http.max_in_flight_per_endpoint = connections_per_receiver;
    // Connections idle after a burst close within seconds, so the fds counted once the outbox
    // has drained show what leaked, not what waits in the pool.
    config.http.idle_timeout = idle_timeout;
    // Gaps of at most 6 s (± 20 %): shorter than a healthy stretch, so a retry always lands in
    // one; 14 attempts over ~56 s outlast the longest fault.
    config.retry.schedule = {0ms, 250ms, 500ms, 1s, 2s, 4s, 6s, 6s, 6s, 6s, 6s, 6s, 6s, 6s};
    config.retry.max_retry_after = 2s;
    // The breaker still opens, but probes within seconds, as the faults here end within seconds.
    config.breaker.open_for = 1s;
    config.breaker.max_open_for = 4s;
    return config;
}

/// Counts herald's log records at warning and above by event name (printed at the end).
class LogTally {
  public:
    herald::Logger logger() {
        return herald::Logger(herald::LogLevel::warning, [this](const herald::LogRecord& r) {
            std::lock_guard lock(mutex_);
            ++counts_[std::string(r.event)];
        });
    }
    std::map<std::string, std::size_t> counts() const {
        std::lock_guard lock(mutex_);
        return counts_;
    }

  private:
    mutable std::mutex mutex_;
    std::map<std::string, std::size_t> counts_;
};

/// Publishes event i at start + i / rate through async_publish, from a thread of its own.
class Publisher {
  public:
    Publisher(herald::Engine& engine, Ledger& ledger, std::size_t rate)
        : thread_([this, &engine, &ledger, rate] { run(engine, ledger, rate); }) {}

    void join() { thread_.join(); }
    /// Publishes whose firings are not recorded yet.
    std::size_t unanswered() const { return unanswered_.load(); }
    std::size_t failures() const { return failures_.load(); }
    double max_lag_ms() const { return max_lag_ms_; }  ///< after join

  private:
    void run(herald::Engine& engine, Ledger& ledger, std::size_t rate) {
        for (std::size_t i = 0; i < ledger.events(); ++i) {
            const auto due = ledger.start() + std::chrono::nanoseconds{1s} * i / rate;
            std::this_thread::sleep_until(due);
            max_lag_ms_ = std::max(
                max_lag_ms_, std::chrono::duration<double, std::milli>(Clock::now() - due).count());
            ledger.published(i);
            ++unanswered_;
            engine.async_publish(alias_event(i), [this, &ledger](boost::system::error_code ec,
                                                                 herald::PublishReceipt receipt) {
                if (ec || receipt.firings.size() != ledger.receivers()) {
                    std::cerr << "publish: " << (ec ? ec.message() : "wrong number of firings")
                              << '\n';
                    ++failures_;
                }
                --unanswered_;
            });
        }
    }

    std::atomic<std::size_t> unanswered_ = 0;
    std::atomic<std::size_t> failures_ = 0;
    double max_lag_ms_ = 0;
    std::thread thread_;
};

// ---- the table --------------------------------------------------------------------------------

struct Row {
    std::string label;  ///< "0–60 s", or "drain"
    std::size_t deliveries = 0;
    std::size_t first_try = 0;
    std::size_t healthy = 0;
    double healthy_p50_ms = 0, healthy_p99_ms = 0;
    double p50_ms = 0, p99_ms = 0, max_ms = 0;
    double cpu_us_per_delivery = 0;
    double rss_mib = 0;  ///< peak of the samples in the interval
    /// SQLite's heap (its page caches, mostly) at that peak's sample: the part of the RSS that
    /// grows with the database file until the caches are full.
    double sqlite_mib = 0;
    std::size_t fds = 0;      ///< peak of the samples in the interval
    std::size_t pending = 0;  ///< outbox at the interval's end
    std::size_t faults_begun = 0;
};

double percentile(std::vector<double>& values, double p) {
    if (values.empty())
        return 0;
    const auto at = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1));
    std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(at),
                     values.end());
    return values[at];
}

/// The latencies of the deliveries first answered 200 in [from_ns, to_ns), into `row`: all of
/// them in `all`, those of healthy receivers in `healthy` (both reused from row to row).
void measure_latency(const Ledger& ledger, std::int64_t from_ns, std::int64_t to_ns,
                     std::vector<double>& all, std::vector<double>& healthy, Row& row) {
    all.clear();
    healthy.clear();
    ledger.for_each_received(from_ns, to_ns, [&](const Slot& slot, std::int64_t latency_ns) {
        const double ms = static_cast<double>(latency_ns) / 1e6;
        all.push_back(ms);
        if (slot.healthy)
            healthy.push_back(ms);
        row.first_try += slot.first_try ? 1 : 0;
    });
    row.deliveries = all.size();
    row.max_ms = all.empty() ? 0 : *std::max_element(all.begin(), all.end());
    row.p99_ms = percentile(all, 0.99);
    row.p50_ms = percentile(all, 0.50);
    row.healthy = healthy.size();
    row.healthy_p99_ms = percentile(healthy, 0.99);
    row.healthy_p50_ms = percentile(healthy, 0.50);
}

double share(std::size_t part, std::size_t whole) {
    return whole ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 0.0;
}

void print_row(const Row& r) {
    std::printf(
        "| %s | %zu | %.1f %% | %.1f | %.0f | %.0f | %.1f %% | %.1f | %.1f | %.0f | %.1f | "
        "%.1f | %zu | %zu | %zu |\n",
        r.label.c_str(), r.deliveries, share(r.first_try, r.deliveries), r.p50_ms, r.p99_ms,
        r.max_ms, share(r.healthy, r.deliveries), r.healthy_p50_ms, r.healthy_p99_ms,
        r.cpu_us_per_delivery, r.rss_mib, r.sqlite_mib, r.fds, r.pending, r.faults_begun);
    std::fflush(stdout);
}

void print_header() {
    std::printf(
        "| interval | deliveries | first try | p50 ms | p99 ms | max ms | healthy | healthy "
        "p50 ms | healthy p99 ms | herald CPU us/delivery | peak RSS MiB | of which SQLite MiB | "
        "peak fds | outbox pending | faults begun |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
}

/// Watches the process for one interval, sampling every `sample`, then measures its row.
class Recorder {
  public:
    Recorder(const Ledger& ledger, herald::Storage& storage, const std::vector<Receiver>& receivers,
             const Chaos& chaos)
        : ledger_(ledger), storage_(storage), receivers_(receivers), chaos_(chaos) {
        // Reserved at once, so that measuring does not grow the RSS it measures.
        all_.reserve(ledger.events() * ledger.receivers());
        healthy_.reserve(ledger.events() * ledger.receivers());
        cpu_mark_ = herald_cpu();
    }

    /// Samples until `until` (or until `done()` holds, checked at each sample) and returns the
    /// row of the deliveries first received since the last call.
    template <class Done>
    Row record(std::string label, Clock::time_point until, Clock::duration sample, Done done) {
        Row row{.label = std::move(label)};
        while (true) {
            if (const double rss = rss_mib(); rss > row.rss_mib) {
                row.rss_mib = rss;
                row.sqlite_mib = static_cast<double>(sqlite3_memory_used()) / (1024.0 * 1024.0);
            }
            row.fds = std::max(row.fds, open_fds());
            if (Clock::now() >= until || done())
                break;
            std::this_thread::sleep_until(std::min(until, Clock::now() + sample));
        }
        const std::int64_t now = ledger_.now_ns();
        measure_latency(ledger_, from_ns_, now, all_, healthy_, row);
        from_ns_ = now;
        const double cpu = herald_cpu();
        row.cpu_us_per_delivery =
            row.deliveries ? (cpu - cpu_mark_) * 1e6 / static_cast<double>(row.deliveries) : 0;
        cpu_mark_ = cpu;
        row.pending = storage_.outbox().pending_count();
        std::size_t begun = 0;
        for (const std::size_t n : chaos_.begun())
            begun += n;
        row.faults_begun = begun - faults_mark_;
        faults_mark_ = begun;
        return row;
    }

    /// The process's CPU time less the receivers' threads.
    double herald_cpu() const { return process_cpu_seconds() - receivers_cpu_seconds(receivers_); }

  private:
    const Ledger& ledger_;
    herald::Storage& storage_;
    const std::vector<Receiver>& receivers_;
    const Chaos& chaos_;
    std::vector<double> all_;
    std::vector<double> healthy_;
    std::int64_t from_ns_ = 0;
    double cpu_mark_ = 0;
    std::size_t faults_mark_ = 0;
};

// ---- the checks -------------------------------------------------------------------------------

class Checks {
  public:
    void check(const char* name, bool ok, const std::string& detail) {
        std::printf("check %-8s %s: %s\n", name, ok ? "ok" : "FAILED", detail.c_str());
        if (!ok)
            failed_.push_back(name);
    }
    bool passed() const { return failed_.empty(); }
    std::string failed() const {
        std::string names;
        for (const std::string& n : failed_)
            names += (names.empty() ? "" : ", ") + n;
        return names;
    }

  private:
    std::vector<std::string> failed_;
};

/// What the history holds of the run: firings by status, and whether each firing's id is the
/// one its receiver saw.
struct HistoryAudit {
    std::map<herald::FiringStatus, std::size_t> statuses;
    std::size_t attempts = 0;
    std::size_t id_mismatches = 0;  ///< firings whose id is not the id their requests carried
    std::size_t strays = 0;         ///< firings of no delivery of the run
};

HistoryAudit audit_history(const herald::HistoryStore& history, const Ledger& ledger) {
    // Each delivery's first id hash, from the ledger, indexed as the slots are.
    std::vector<std::size_t> ids(ledger.events() * ledger.receivers(), 0);
    ledger.for_each_published([&](std::size_t event, std::size_t receiver, const Slot& slot) {
        ids[event * ledger.receivers() + receiver] = slot.id_hash;
    });
    std::map<std::string, std::size_t> receiver_of;
    for (std::size_t r = 0; r < ledger.receivers(); ++r)
        receiver_of[integration_name(r)] = r;

    HistoryAudit audit;
    herald::HistoryQuery page;
    page.limit = herald::max_history_page;
    for (;;) {
        const std::vector<herald::Firing> firings = history.query(page);
        for (const herald::Firing& f : firings) {
            ++audit.statuses[f.status];
            audit.attempts += f.attempts.size();
            const auto* alias = std::get_if<herald::AliasAdded>(&f.event.body);
            const auto receiver = receiver_of.find(f.integration);
            if (!alias || receiver == receiver_of.end() || alias->version.index < 0 ||
                static_cast<std::size_t>(alias->version.index) >= ledger.events()) {
                ++audit.strays;
                continue;
            }
            const std::size_t slot =
                static_cast<std::size_t>(alias->version.index) * ledger.receivers() +
                receiver->second;
            audit.id_mismatches += ids[slot] == std::hash<std::string_view>{}(f.id) ? 0 : 1;
        }
        if (firings.size() < page.limit)
            return audit;
        page.before = firings.back().id;
    }
}

std::string format(const char* pattern, auto... values) {
    char buffer[512];
    std::snprintf(buffer, sizeof buffer, pattern, values...);
    return buffer;
}

/// A fresh folder under /tmp for the database, removed with everything in it when this goes.
class TemporaryFolder {
  public:
    TemporaryFolder() {
        char name[] = "/tmp/herald-soak-XXXXXX";
        if (::mkdtemp(name) == nullptr)
            throw std::runtime_error("mkdtemp: cannot make a folder under /tmp");
        path_ = name;
    }
    ~TemporaryFolder() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    TemporaryFolder(const TemporaryFolder&) = delete;
    TemporaryFolder& operator=(const TemporaryFolder&) = delete;

    const std::filesystem::path& path() const { return path_; }

  private:
    std::filesystem::path path_;
};

int run(const Options& options) {
    const std::size_t events = options.seconds * options.rate;
    const std::size_t expected = events * options.receivers;

    const herald::DispatcherConfig dispatch = dispatch_config();
    // A receiver's breaker may stay open this long after it recovered, holding back the
    // deliveries behind it: those are not yet a healthy receiver's.
    Ledger ledger(events, options.receivers, Clock::now(), dispatch.breaker.max_open_for + 1s);
    std::vector<Receiver> receivers = start_receivers(ledger, options.receivers);

    const TemporaryFolder folder;
    LogTally logs;
    auto metrics = std::make_shared<herald::Metrics>();
    std::shared_ptr<herald::Storage> storage = herald::sqlite::open(
        folder.path() / "herald.db", {.logger = logs.logger(), .metrics = metrics});

    asio::io_context io;
    herald::EngineConfig config{.storage = storage,
                                .dispatch = dispatch,
                                .secrets = std::make_shared<herald::MemorySecretStore>(),
                                .logger = logs.logger(),
                                .metrics = metrics};
    auto engine = std::make_unique<herald::Engine>(io.get_executor(), config);
    add_automations(*engine, receivers);
    // Receivers listening, the database open, no connection yet.
    const std::size_t start_fds = open_fds();

    std::printf(
        "soak: %zu s at %zu events/s, %zu receivers (%zu deliveries/s, %zu in all), "
        "seed %u, intervals of %zu s\n",
        options.seconds, options.rate, options.receivers, options.rate * options.receivers,
        expected, options.seed, options.interval);
    print_header();

    const auto run_start = Clock::now();
    std::thread runner([&] {
        auto work = asio::make_work_guard(io);
        io.run();
    });
    Chaos chaos(receivers, ledger, options.seed);
    Recorder recorder(ledger, *storage, receivers, chaos);
    const double cpu_start = recorder.herald_cpu();
    Publisher publisher(*engine, ledger, options.rate);

    const auto sample = std::chrono::seconds{options.sample_seconds};
    const auto publish_end = ledger.start() + std::chrono::seconds{options.seconds};
    std::vector<Row> rows;
    for (auto from = ledger.start(); from < publish_end;) {
        const auto to = std::min(publish_end, from + std::chrono::seconds{options.interval});
        const auto offset = [&](Clock::time_point t) {
            return std::chrono::duration_cast<std::chrono::seconds>(t - ledger.start()).count();
        };
        rows.push_back(recorder.record(format("%lld–%lld s", offset(from), offset(to)), to, sample,
                                       [] { return false; }));
        print_row(rows.back());
        from = to;
    }
    publisher.join();
    chaos.stop();

    // Drained: every publish recorded, every delivery answered 200 and the outbox empty.
    const auto drain_start = Clock::now();
    std::size_t lost = expected;
    const auto drained = [&] {
        if (publisher.unanswered() > 0 || storage->outbox().pending_count() > 0)
            return false;
        lost = 0;
        ledger.for_each_published([&](std::size_t, std::size_t, const Slot& slot) {
            lost += slot.answered_ok == 0 ? 1 : 0;
        });
        return lost == 0;
    };
    const Row drain = recorder.record(
        "drain", drain_start + std::chrono::seconds{options.drain_seconds}, sample, drained);
    print_row(drain);
    const double drain_seconds = std::chrono::duration<double>(Clock::now() - drain_start).count();
    const double cpu_total = recorder.herald_cpu() - cpu_start;
    const double run_seconds = std::chrono::duration<double>(Clock::now() - run_start).count();
    // The pool closes connections idle for `idle_timeout` when it sweeps, every `idle_timeout`.
    std::this_thread::sleep_for(2 * idle_timeout + 1s);
    const std::size_t settled_fds = open_fds();

    std::atomic<bool> stopped = false;
    engine->dispatcher().async_stop(5s, [&](boost::system::error_code) { stopped = true; });
    while (!stopped)
        std::this_thread::sleep_for(1ms);
    io.stop();
    runner.join();

    drained();  // counts what was lost, whether the drain finished or gave up
    const Ledger::Counts arrivals = ledger.counts();
    const HistoryAudit history = audit_history(storage->history(), ledger);
    engine.reset();
    storage.reset();

    std::printf(
        "\npublished %zu events (publisher at most %.1f ms late), %zu deliveries expected; "
        "%zu requests arrived, %zu duplicates; drained in %.1f s\n",
        events, publisher.max_lag_ms(), expected, arrivals.requests, arrivals.duplicates,
        drain_seconds);
    std::printf("herald CPU %.1f s over %.0f s: %.1f us per delivery (process less receivers)\n",
                cpu_total, run_seconds, cpu_total * 1e6 / static_cast<double>(expected));
    // A request that a receiver resets on a pooled connection before answering goes again on
    // another connection within the same attempt, so requests may outnumber attempts.
    std::printf("history: %zu attempts recorded for %zu requests received\n", history.attempts,
                arrivals.requests);
    const auto begun = chaos.begun();
    const auto fault_seconds = chaos.seconds();
    std::printf("faults:");
    for (std::size_t k = 0; k < faults.size(); ++k)
        std::printf(" %s %zu× %.0f s;", fault_names[k], begun[k], fault_seconds[k]);
    std::printf("\nherald's warnings and errors:");
    for (const auto& [event, count] : logs.counts())
        std::printf(" %s %zu;", event.c_str(), count);
    std::printf("\n\n");

    Checks checks;
    checks.check(
        "publish", publisher.failures() == 0 && publisher.unanswered() == 0,
        format("%zu failed, %zu unanswered", publisher.failures(), publisher.unanswered()));
    std::string lost_detail = format("%zu of %zu deliveries never answered 200", lost, expected);
    std::size_t named = 0;
    ledger.for_each_published([&](std::size_t event, std::size_t receiver, const Slot& slot) {
        if (slot.answered_ok == 0 && named++ < 5)
            lost_detail += format("; event %zu to receiver %zu (%u requests)", event, receiver,
                                  static_cast<unsigned>(slot.requests));
    });
    checks.check("lost", lost == 0, lost_detail);
    checks.check("ids",
                 arrivals.id_mismatches == 0 && history.id_mismatches == 0 && arrivals.unknown == 0,
                 format("%zu requests with another id than their delivery's first, %zu firings "
                        "whose id their receiver never saw, %zu requests of no event",
                        arrivals.id_mismatches, history.id_mismatches, arrivals.unknown));
    const auto count = [&](herald::FiringStatus s) {
        const auto it = history.statuses.find(s);
        return it == history.statuses.end() ? std::size_t{0} : it->second;
    };
    const std::size_t finished = count(herald::FiringStatus::finished);
    std::size_t firings = 0;
    for (const auto& [status, n] : history.statuses)
        firings += n;
    checks.check(
        "history", finished == expected && firings == expected && history.strays == 0,
        format("%zu finished of %zu; %zu pending, %zu failed, %zu dead, %zu strays", finished,
               expected, count(herald::FiringStatus::pending), count(herald::FiringStatus::failed),
               count(herald::FiringStatus::dead), history.strays));
    const Row& first = rows.front();
    const Row& last = rows.back();
    checks.check("rss", last.rss_mib - first.rss_mib <= options.rss_growth_mib,
                 format("%.1f MiB in the first interval, %.1f in the last (bound +%.0f); SQLite's "
                        "heap %.1f and %.1f",
                        first.rss_mib, last.rss_mib, options.rss_growth_mib, first.sqlite_mib,
                        last.sqlite_mib));
    // Each connection is two fds here: herald's end and the receiver's.
    const std::size_t fd_ceiling =
        start_fds + 2 * options.receivers * connections_per_receiver + options.fd_growth;
    std::size_t peak_fds = drain.fds;
    for (const Row& row : rows)
        peak_fds = std::max(peak_fds, row.fds);
    checks.check("fds", settled_fds <= start_fds + options.fd_growth && peak_fds <= fd_ceiling,
                 format("%zu before publishing, %zu once drained and idle (bound +%zu); peak %zu "
                        "(bound %zu: two per connection)",
                        start_fds, settled_fds, options.fd_growth, peak_fds, fd_ceiling));
    checks.check("p99", last.healthy_p99_ms <= options.p99_factor * first.healthy_p99_ms + 50,
                 format("healthy receivers' p99 %.1f ms in the first interval, %.1f in the last "
                        "(bound %.1f× + 50 ms); all deliveries' %.0f and %.0f ms",
                        first.healthy_p99_ms, last.healthy_p99_ms, options.p99_factor, first.p99_ms,
                        last.p99_ms));
    if (!checks.passed()) {
        std::printf("soak FAILED: %s\n", checks.failed().c_str());
        return 1;
    }
    std::printf("soak passed\n");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const Options options = parse(argc, argv);
    try {
        return run(options);
    } catch (const std::exception& e) {  // setting up: the database, a receiver, an automation
        std::fprintf(stderr, "bench_soak: %s\n", e.what());
        return 1;
    }
}
