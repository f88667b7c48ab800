// Signed webhook requests per second through herald's HTTP client (src/delivery/http_client.hpp)
// to a receiver on loopback — normally the nginx sink that bench/run_delivery_bench.sh starts,
// which also runs wrk against the same sink for comparison.
//
//     HERALD_BENCH_SINK_URL=http://127.0.0.1:18080/hook build-net-rel/bench/bench_delivery
//
// Each benchmark iteration sends a batch of requests with `connections` requests in flight (one
// keep-alive connection each); every request gets a fresh delivery id, timestamp and wandb
// signature of its body, as the dispatcher does per attempt. One thread runs the io_context.
#include "delivery/http_client.hpp"
#include "delivery/signature.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <deque>
#include <string>

namespace {

namespace asio = boost::asio;
using namespace herald::detail;

constexpr int batch_size = 2000;
const std::string body =
    R"({"event_type":"ADD_ARTIFACT_ALIAS","event_author":"grace","entity_name":"acme",)"
    R"("project_name":"vision","artifact_version_string":"acme/vision/resnet:production",)"
    R"("artifact_collection_name":"resnet","alias":"production","automation_name":"deploy"})";

const char* sink_url() {
    return std::getenv("HERALD_BENCH_SINK_URL");
}

HttpRequest signed_request(const boost::urls::url& url, std::uint64_t n) {
    const std::string delivery_id = "bench-" + std::to_string(n);
    return {.url = url,
            .headers = {{"Content-Type", "application/json"},
                        {"X-Herald-Delivery-Id", delivery_id},
                        {"X-Herald-Attempt", "1"},
                        {"X-Wandb-Signature", wandb_signature(body, "bench-signing-secret")}},
            .body = body};
}

// Keeps `in_flight` requests going until `total` have completed.
class Load {
  public:
    // Stops `io` when the last request has completed.
    Load(HttpClient& client, asio::io_context& io, boost::urls::url url, int total)
        : client_(client), io_(io), url_(std::move(url)), total_(total) {}

    void start(int in_flight) {
        for (int i = 0; i < in_flight && started_ < total_; ++i)
            send_next();
    }
    bool done() const { return completed_ == total_; }
    int failures() const { return failures_; }

  private:
    void send_next() {
        ++started_;
        client_.async_send(signed_request(url_, next_id_++),
                           [this](boost::system::error_code ec, HttpResponse response) {
                               ++completed_;
                               if (ec || response.status != 200)
                                   ++failures_;
                               if (started_ < total_)
                                   send_next();
                               else if (done())
                                   io_.stop();
                           });
    }

    HttpClient& client_;
    asio::io_context& io_;
    boost::urls::url url_;
    int total_;
    int started_ = 0;
    int completed_ = 0;
    int failures_ = 0;
    std::uint64_t next_id_ = 0;
};

// Endpoints that accept TCP connections (the kernel completes the handshake into the listen
// backlog) and never answer: requests to them stay in flight, each holding its endpoint's slot.
class StalledEndpoints {
  public:
    StalledEndpoints(asio::io_context& io, int count) {
        const asio::ip::tcp::endpoint loopback{asio::ip::make_address("127.0.0.1"), 0};
        for (int i = 0; i < count; ++i) {
            auto& acceptor = acceptors_.emplace_back(io, loopback.protocol());
            acceptor.bind(loopback);
            acceptor.listen(64);
        }
    }

    // Sends `per_endpoint` requests to each stalled endpoint; they never complete.
    void occupy(HttpClient& client, int per_endpoint) const {
        for (const auto& acceptor : acceptors_)
            for (int i = 0; i < per_endpoint; ++i)
                client.async_send(
                    signed_request(
                        boost::urls::url{
                            "http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) +
                            "/stalled"},
                        0),
                    [](boost::system::error_code, HttpResponse) {});
    }

  private:
    std::deque<asio::ip::tcp::acceptor> acceptors_;
};

// Requests to the sink with `connections` in flight; with `stalled` > 0, that many stalled
// endpoints hold two requests each for the whole run.
void run_signed_delivery(benchmark::State& state, int stalled) {
    if (sink_url() == nullptr) {
        state.SkipWithError("set HERALD_BENCH_SINK_URL (bench/run_delivery_bench.sh does)");
        return;
    }
    const auto connections = static_cast<int>(state.range(0));
    herald::DeliveryConfig config;
    config.ssrf.allowed_subnets = {"127.0.0.0/8"};
    config.max_in_flight_per_endpoint = static_cast<std::size_t>(connections);
    config.total_timeout = std::chrono::hours{1};
    asio::io_context io{1};
    HttpClient client{io.get_executor(), config,
                      std::make_shared<herald::StaticResolver>(io.get_executor(),
                                                               herald::StaticResolver::Table{})};
    StalledEndpoints stalled_endpoints{io, stalled};
    stalled_endpoints.occupy(client, 2);
    const boost::urls::url url{sink_url()};
    int failures = 0;
    for (auto _ : state) {
        Load load{client, io, url, batch_size};
        load.start(connections);
        io.restart();
        io.run();
        failures += load.failures();
    }
    state.SetItemsProcessed(state.iterations() * batch_size);
    state.counters["failures"] = failures;
    state.counters["connections"] = connections;
    state.counters["stalled_endpoints"] = stalled;
}

void BM_SignedDelivery(benchmark::State& state) {
    run_signed_delivery(state, 0);
}
BENCHMARK(BM_SignedDelivery)
    ->Arg(8)
    ->Arg(16)
    ->Arg(64)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// The same with 100 endpoints that never answer, 200 requests stuck on them (isolation).
void BM_SignedDeliveryBeside100Stalled(benchmark::State& state) {
    run_signed_delivery(state, 100);
}
BENCHMARK(BM_SignedDeliveryBeside100Stalled)->Arg(16)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
