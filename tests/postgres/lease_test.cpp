// Two engines on one PostgreSQL database deliver from one outbox to a receiver that answers more
// slowly than a lease lasts: each delivery is sent once, as the engine holding it renews its
// lease while the request runs.
#include "postgres/replica.hpp"
#include "postgres/test_server.hpp"
#include "support/event_builders.hpp"
#include "support/test_server.hpp"

#include <herald/engine.hpp>
#include <herald/postgres/database.hpp>

#include <boost/asio/ip/address.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <set>
#include <string>
#include <thread>

using namespace std::chrono_literals;

namespace {

/// A replica with a lease shorter than the receiver takes to answer.
herald::test::Replica leasing(const std::string& schema) {
    return herald::test::Replica(schema, [](herald::EngineConfig& c) {
        c.refresh_interval = 100ms;
        c.dispatch.http.total_timeout = 10s;
        c.dispatch.lease = 900ms;
        c.dispatch.poll_interval = 20ms;
    });
}

}  // namespace

TEST_CASE("two engines deliver each delivery once to a receiver slower than their lease",
          "[postgres][lease]") {
    herald::test::TestServer receiver{{.fault = herald::test::Fault::slow}};
    receiver.set_delay(1500ms);  // longer than the 900 ms lease
    const std::string schema = herald::test::fresh_schema();
    herald::test::Replica a = leasing(schema);
    herald::test::Replica b = leasing(schema);
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
