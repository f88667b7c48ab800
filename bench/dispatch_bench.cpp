// The dispatcher end to end: publish-to-receipt latency at a fixed publish rate against a
// keep-alive HTTP sink on 127.0.0.1 (in this process, its own thread), and the memory a
// pending delivery costs.
//
//   ninja -C build-dispatch-rel bench_dispatch && build-dispatch-rel/bench/bench_dispatch
//
// Latency: from just before `Engine::publish` is called to the moment the sink has read the whole
// request (a signed wandb webhook; one automation fires per event), per delivery; p50 and p99
// over every delivery of the run. The publishing thread, the engine's io_context thread and the
// sink's thread share the machine.
#include "webhook_automation.hpp"

#include <herald/engine.hpp>
#include <herald/memory_storage.hpp>

#include <benchmark/benchmark.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using SteadyTime = std::chrono::steady_clock::time_point;

using herald::bench::add_webhook_automation;

/// A keep-alive HTTP/1.1 sink that answers 200 "ok" and notes when each delivery arrived.
class Sink {
  public:
    Sink() : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
        asio::co_spawn(io_, accept(), asio::detached);
        thread_ = std::thread([this] { io_.run(); });
    }
    ~Sink() {
        io_.stop();
        thread_.join();
    }
    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
    std::vector<std::pair<std::string, SteadyTime>> arrivals() const {
        std::lock_guard lock(mutex_);
        return arrivals_;
    }
    std::size_t count() const {
        std::lock_guard lock(mutex_);
        return arrivals_.size();
    }

  private:
    asio::awaitable<void> accept() {
        for (;;) {
            auto socket = co_await acceptor_.async_accept(asio::use_awaitable);
            asio::co_spawn(io_, serve(std::move(socket)), asio::detached);
        }
    }
    asio::awaitable<void> serve(asio::ip::tcp::socket socket) {
        static constexpr std::string_view ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        asio::streambuf buffer;
        for (;;) {
            const std::size_t head_size =
                co_await asio::async_read_until(socket, buffer, "\r\n\r\n", asio::use_awaitable);
            std::string head(asio::buffers_begin(buffer.data()),
                             asio::buffers_begin(buffer.data()) + head_size);
            buffer.consume(head_size);
            const std::size_t length = std::stoul(value(head, "Content-Length"));
            if (buffer.size() < length)
                co_await asio::async_read(socket, buffer,
                                          asio::transfer_exactly(length - buffer.size()),
                                          asio::use_awaitable);
            buffer.consume(length);
            {
                std::lock_guard lock(mutex_);
                arrivals_.emplace_back(value(head, "X-Herald-Delivery"),
                                       std::chrono::steady_clock::now());
            }
            co_await asio::async_write(socket, asio::buffer(ok), asio::use_awaitable);
        }
    }
    static std::string value(const std::string& head, std::string_view name) {
        std::string key = "\r\n";
        key += name;
        key += ": ";
        const auto at = head.find(key);
        if (at == std::string::npos)
            return "0";
        const auto start = at + key.size();
        return head.substr(start, head.find("\r\n", start) - start);
    }

    asio::io_context io_;
    asio::ip::tcp::acceptor acceptor_;
    std::thread thread_;
    mutable std::mutex mutex_;
    std::vector<std::pair<std::string, SteadyTime>> arrivals_;
};

herald::Event alias_event() {
    return {.author = "grace",
            .entity = "acme",
            .project = "reg",
            .body = herald::AliasAdded{.version = {.collection = "clf", .index = 3},
                                       .alias = "production"}};
}

double percentile(std::vector<double>& values, double p) {
    const auto at = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1));
    std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(at),
                     values.end());
    return values[at];
}

/// An engine with one signed-webhook automation delivering to a `Sink`, its io_context run by a
/// thread of its own once `start` is called.
class Rig {
  public:
    explicit Rig(std::size_t connections) {
        herald::EngineConfig config;
        config.dispatch.http.ssrf.allowed_subnets = {"127.0.0.0/8"};
        config.dispatch.http.max_in_flight_per_endpoint = connections;
        config.resolver = std::make_shared<herald::StaticResolver>(
            io_.get_executor(),
            herald::StaticResolver::Table{{"sink.test", {asio::ip::make_address("127.0.0.1")}}});
        engine_ = std::make_unique<herald::Engine>(io_.get_executor(), config);
        add_webhook_automation(*engine_,
                               "http://sink.test:" + std::to_string(sink_.port()) + "/hook");
    }
    ~Rig() {
        bool stopped = false;
        engine_->dispatcher().async_stop(1s, [&](boost::system::error_code) { stopped = true; });
        if (!runner_.joinable())
            start();
        while (!stopped)
            std::this_thread::sleep_for(1ms);
        work_.reset();
        io_.stop();
        runner_.join();
    }

    herald::Engine& engine() { return *engine_; }
    const Sink& sink() const { return sink_; }
    void start() {
        runner_ = std::thread([this] { io_.run(); });
    }
    void wait_for_receipts(std::size_t count) const {
        while (sink_.count() < count)
            std::this_thread::sleep_for(1ms);
    }

  private:
    Sink sink_;
    asio::io_context io_;
    asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
    std::unique_ptr<herald::Engine> engine_;
    std::thread runner_;
};

// Publishes `rate` events per second for 5 s; each fires one signed webhook to the sink.
void BM_PublishToReceipt(benchmark::State& state) {
    const auto rate = state.range(0);
    const auto total = static_cast<std::size_t>(rate * 5);
    for (auto _ : state) {
        Rig rig{8};
        rig.start();
        std::unordered_map<std::string, SteadyTime> published;
        published.reserve(total);
        const auto interval = std::chrono::nanoseconds{1'000'000'000 / rate};
        auto next = std::chrono::steady_clock::now();
        for (std::size_t i = 0; i < total; ++i) {
            std::this_thread::sleep_until(next);
            const auto before = std::chrono::steady_clock::now();
            auto receipt = rig.engine().publish(alias_event());
            published.emplace(std::move(receipt.firings.front().id), before);
            next += interval;
        }
        rig.wait_for_receipts(total);

        std::vector<double> micros;
        for (const auto& [id, arrived] : rig.sink().arrivals())
            micros.push_back(
                std::chrono::duration<double, std::micro>(arrived - published.at(id)).count());
        state.counters["p50_us"] = percentile(micros, 0.50);
        state.counters["p99_us"] = percentile(micros, 0.99);
        state.counters["max_us"] = *std::max_element(micros.begin(), micros.end());
        state.counters["deliveries"] = static_cast<double>(micros.size());
    }
}
BENCHMARK(BM_PublishToReceipt)
    ->Arg(100)
    ->Arg(1000)
    ->Arg(5000)
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// Throughput: 20,000 events published at once (outbox full), carried out as fast as the
// dispatcher can over `state.range(0)` connections; deliveries per second from the first
// publish to the last receipt.
void BM_DispatchThroughput(benchmark::State& state) {
    constexpr std::size_t total = 20'000;
    for (auto _ : state) {
        Rig rig{static_cast<std::size_t>(state.range(0))};
        const auto started = std::chrono::steady_clock::now();
        for (std::size_t i = 0; i < total; ++i)
            rig.engine().publish(alias_event());
        rig.start();
        rig.wait_for_receipts(total);
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        state.counters["deliveries_per_s"] = static_cast<double>(total) / seconds;
    }
}
BENCHMARK(BM_DispatchThroughput)
    ->Arg(8)
    ->Arg(64)
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

std::size_t heap_in_use() {
    return mallinfo2().uordblks;
}

// Heap bytes per pending delivery: 100,000 events published to an engine without an executor
// (nothing is sent), so each leaves its history record and its outbox entry behind.
void BM_MemoryPerPendingDelivery(benchmark::State& state) {
    constexpr std::size_t count = 100'000;
    for (auto _ : state) {
        auto storage = std::make_shared<herald::MemoryStorage>();
        herald::Engine engine{{.storage = storage}};
        add_webhook_automation(engine, "https://hooks.example.com/herald");
        const std::size_t before = heap_in_use();
        for (std::size_t i = 0; i < count; ++i)
            engine.publish(alias_event());
        const std::size_t after = heap_in_use();
        state.counters["bytes_per_delivery"] =
            static_cast<double>(after - before) / static_cast<double>(count);

        // The outbox entry alone: the same deliveries enqueued in a fresh store.
        herald::MemoryStorage outbox_only;
        std::vector<herald::Delivery> deliveries;
        auto last = storage->outbox().claim(herald::Timestamp::max(), 1, herald::Timestamp::max());
        const herald::Delivery sample = last.front();
        const std::size_t outbox_before = heap_in_use();
        for (std::size_t i = 0; i < count; ++i) {
            herald::Delivery d = sample;
            d.firing.id = std::to_string(i) + "-0000-0000-0000-000000000000";
            outbox_only.outbox().enqueue({&d, 1});
        }
        state.counters["outbox_bytes_per_delivery"] =
            static_cast<double>(heap_in_use() - outbox_before) / static_cast<double>(count);
        state.counters["pending"] = static_cast<double>(storage->outbox().pending_count());
    }
}
BENCHMARK(BM_MemoryPerPendingDelivery)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
