// Claim latency with a large outbox: `rows` deliveries, all due (a backlog behind a receiver
// that was down), recorded first (not timed), then `rounds` rounds of claiming `batch` of them
// and settling them as delivered, one call each, timed apart. bench/run_postgres_bench.sh runs
// it on SQLite and PostgreSQL side by side (HERALD_CLAIM_ROWS=N); usable alone:
//
//   bench_claim --storage postgres --postgres CONNINFO --rows 1000000 --batch 64 --rounds 500
//
// --storage sqlite    a fresh database file in a temporary folder, default options
// --storage postgres  a fresh schema (bench_claim_<pid>) in the database CONNINFO names
//
// Prints one line of `key=value` pairs: the outbox's size, seeding time, and the p50, p99 and
// largest claim and settle latencies in milliseconds.
#include "bench_storage.hpp"
#include "flags.hpp"

#include <herald/firing.hpp>
#include <herald/storage.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct Options {
    herald::bench::StorageChoice storage{.kind = "postgres"};
    std::size_t rows = 1'000'000;
    std::size_t batch = 64;
    std::size_t rounds = 500;
};

[[noreturn]] void usage(const std::string& why) {
    std::cerr << "bench_claim: " << why
              << "\nusage: bench_claim [--storage sqlite|postgres] [--postgres CONNINFO] [--rows "
                 "N] [--batch N] [--rounds N]\n";
    std::exit(2);
}

Options parse(int argc, char** argv) {
    Options o;
    herald::bench::for_each_flag(
        argc, argv,
        [&](const std::string& flag, const std::string& value) {
            if (o.storage.take(flag, value))
                return;
            if (flag == "--rows")
                o.rows = std::stoul(value);
            else if (flag == "--batch")
                o.batch = std::stoul(value);
            else if (flag == "--rounds")
                o.rounds = std::stoul(value);
            else
                usage("unknown flag " + flag);
        },
        usage);
    if (const std::string problem = o.storage.problem(false); !problem.empty())
        usage(problem);
    if (o.batch == 0 || o.rows < o.batch * o.rounds)
        usage("--rows must hold --batch × --rounds deliveries");
    return o;
}

/// Records `count` firings of one webhook, each with its delivery due at `due`, in transactions
/// of 10,000.
void seed(herald::Storage& storage, std::size_t count, herald::Timestamp due) {
    std::vector<herald::Firing> firings;
    std::vector<herald::NewDelivery> deliveries;
    for (std::size_t i = 0; i < count;) {
        firings.clear();
        deliveries.clear();
        for (; firings.size() < 10'000 && i < count; ++i) {
            herald::Firing f{.id = "claim-" + std::to_string(i),
                             .automation_id = "a1",
                             .automation_name = "promote",
                             .action = herald::ActionKind::webhook,
                             .time = due,
                             .reason = "alias production added",
                             .integration = "sink"};
            f.event.id = f.id;
            f.event.entity = "acme";
            f.event.time = due;
            deliveries.push_back({.firing = firings.size(),
                                  .action = herald::action::Webhook{.integration = "sink"},
                                  .trigger = herald::TriggerKind::add_artifact_alias,
                                  .due = due});
            firings.push_back(std::move(f));
        }
        storage.record_firings(firings, deliveries);
    }
}

/// The q-quantile of `samples` (sorted in place), in milliseconds.
double quantile_ms(std::vector<Clock::duration>& samples, double q) {
    std::sort(samples.begin(), samples.end());
    const auto index = static_cast<std::size_t>(q * static_cast<double>(samples.size() - 1));
    return std::chrono::duration<double, std::milli>(samples[index]).count();
}

}  // namespace

int main(int argc, char** argv) {
    const Options options = parse(argc, argv);
    herald::bench::BenchStorage bench(options.storage, "bench_claim");
    herald::Storage* const storage = bench.storage.get();

    const herald::Timestamp due = herald::SystemClock().now() - 1h;
    const auto seeding = Clock::now();
    seed(*storage, options.rows, due);
    const double seed_seconds = std::chrono::duration<double>(Clock::now() - seeding).count();

    std::vector<Clock::duration> claims;
    std::vector<Clock::duration> settles;
    for (std::size_t round = 0; round < options.rounds; ++round) {
        const herald::Timestamp now = herald::SystemClock().now();
        const herald::Timestamp lease = now + 60s;
        const auto before_claim = Clock::now();
        const std::vector<herald::Delivery> claimed =
            storage->outbox().claim(now, options.batch, lease);
        claims.push_back(Clock::now() - before_claim);
        if (claimed.size() != options.batch) {
            std::cerr << "claimed " << claimed.size() << " of " << options.batch << '\n';
            return 1;
        }
        std::vector<herald::OutboxUpdate> delivered;
        for (const herald::Delivery& d : claimed)
            delivered.push_back({.delivery_id = d.firing.id,
                                 .kind = herald::OutboxUpdate::Kind::complete,
                                 .lease = lease});
        const auto before_settle = Clock::now();
        storage->settle({.outbox = delivered});
        settles.push_back(Clock::now() - before_settle);
    }
    const std::size_t left = storage->outbox().pending_count();

    std::printf(
        "storage=%s rows=%zu batch=%zu rounds=%zu seed_seconds=%.1f claim_p50_ms=%.2f "
        "claim_p99_ms=%.2f claim_max_ms=%.2f settle_p50_ms=%.2f settle_p99_ms=%.2f "
        "settle_max_ms=%.2f left=%zu\n",
        options.storage.kind.c_str(), options.rows, options.batch, options.rounds, seed_seconds,
        quantile_ms(claims, 0.5), quantile_ms(claims, 0.99), quantile_ms(claims, 1.0),
        quantile_ms(settles, 0.5), quantile_ms(settles, 0.99), quantile_ms(settles, 1.0), left);
    return left == options.rows - options.batch * options.rounds ? 0 : 1;
}
