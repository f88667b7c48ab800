// Two engines on one PostgreSQL database deliver from one outbox to a receiver that answers more
// slowly than a lease lasts: each delivery is sent once, as the engine holding it renews its
// lease while the request runs.
#include "postgres/test_server.hpp"
#include "support/event_builders.hpp"
#include "support/test_server.hpp"

#include <herald/engine.hpp>
#include <herald/postgres/database.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <set>
#include <string>
#include <thread>

using namespace std::chrono_literals;

namespace {

/// An engine with its dispatcher on an io_context of its own thread: one replica.
class Replica {
  public:
    explicit Replica(const std::string& schema)
        : db(herald::postgres::open(herald::test::postgres_conninfo(), {.schema = schema})) {
        herald::EngineConfig config{.storage = db, .refresh_interval = 100ms};
        config.dispatch.http.ssrf.allowed_subnets = {"127.0.0.0/8"};
        config.dispatch.http.total_timeout = 10s;
        config.dispatch.lease = 900ms;
        config.dispatch.poll_interval = 20ms;
        engine_.emplace(io_.get_executor(), std::move(config));
        thread_ = std::thread([this] {
            while (!done_)
                io_.run_for(20ms);
        });
    }
    ~Replica() {
        done_ = true;
        thread_.join();
        engine_.reset();
        io_.run_for(50ms);
    }
    herald::Engine& engine() { return *engine_; }

    const std::shared_ptr<herald::postgres::Database> db;

  private:
    boost::asio::io_context io_;
    std::optional<herald::Engine> engine_;
    std::atomic<bool> done_ = false;
    std::thread thread_;
};

}  // namespace

TEST_CASE("two engines deliver each delivery once to a receiver slower than their lease",
          "[postgres][lease]") {
    herald::test::TestServer receiver{{.fault = herald::test::Fault::slow}};
    receiver.set_delay(1500ms);  // longer than the 900 ms lease
    const std::string schema = herald::test::fresh_schema();
    Replica a(schema);
    Replica b(schema);
    const herald::Principal admin = herald::test::admin_of("acme");
    a.engine().integrations().create(
        admin, herald::WebhookIntegration{.entity = "acme", .name = "hook", .url = receiver.url()});
    a.engine().automations().create(
        admin,
        herald::Automation{
            .name = "on-alias",
            .scope = herald::Scope::for_project("acme", "reg"),
            .trigger = herald::trigger::AddArtifactAlias{.alias = herald::Pattern{"production"}},
            .action = herald::action::Webhook{.integration = "hook"}});
    constexpr std::size_t deliveries = 12;
    for (std::size_t i = 0; i < deliveries; ++i)
        REQUIRE(a.engine()
                    .publish(herald::test::alias_added("acme", "reg", "m" + std::to_string(i),
                                                       "production"))
                    .firings.size() == 1);

    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (a.db->outbox().pending_count() > 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(50ms);
    std::this_thread::sleep_for(1200ms);  // more than a lease after the last answer

    const auto requests = receiver.requests();
    std::set<std::string> ids;
    for (const auto& r : requests)
        ids.insert(r.header("X-Herald-Delivery"));
    CHECK(ids.size() == deliveries);
    CHECK(requests.size() == deliveries);
    herald::HistoryQuery finished;
    finished.status = herald::FiringStatus::finished;
    finished.limit = 100;
    CHECK(a.db->history().query(finished).size() == deliveries);
}
