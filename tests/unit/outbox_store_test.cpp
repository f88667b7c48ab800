#include "support/test_storage.hpp"

#include <herald/error.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <string>

using namespace std::chrono_literals;

namespace {

herald::Delivery delivery(std::string id, herald::Timestamp due) {
    herald::Delivery d;
    d.firing.id = std::move(id);
    d.firing.automation_id = "a1";
    d.action = herald::action::Webhook{.integration = "deploy", .payload = "{}"};
    d.due = due;
    return d;
}

herald::OutboxUpdate update(std::string id, herald::OutboxUpdate::Kind kind,
                            herald::Timestamp due = {}, int attempts = 0) {
    return {.delivery_id = std::move(id), .kind = kind, .due = due, .attempts = attempts};
}

const herald::Timestamp t0{std::chrono::hours{1000}};

}  // namespace

TEST_CASE("claim returns due deliveries earliest first, each once per lease", "[outbox]") {
    auto storage = herald::test::make_storage();
    herald::OutboxStore& outbox = storage->outbox();
    const herald::Delivery ds[] = {delivery("late", t0 + 10s), delivery("b", t0 + 1s),
                                   delivery("a", t0)};
    outbox.enqueue(ds);
    CHECK(outbox.pending_count() == 3);
    CHECK(outbox.next_due() == t0);

    auto claimed = outbox.claim(t0 + 1s, 10, t0 + 5min);
    REQUIRE(claimed.size() == 2);
    CHECK(claimed[0].firing.id == "a");
    CHECK(claimed[1].firing.id == "b");
    CHECK(claimed[0].action == ds[2].action);
    CHECK(outbox.claim(t0 + 1s, 10, t0 + 5min).empty());
    CHECK(outbox.next_due() == t0 + 10s);
}

TEST_CASE("a lease that ends returns the delivery", "[outbox]") {
    auto storage = herald::test::make_storage();
    herald::OutboxStore& outbox = storage->outbox();
    const herald::Delivery d = delivery("x", t0);
    outbox.enqueue({&d, 1});
    REQUIRE(outbox.claim(t0, 1, t0 + 5min).size() == 1);
    CHECK(outbox.next_due() == t0 + 5min);
    CHECK(outbox.claim(t0 + 5min - 1ns, 1, t0 + 10min).empty());
    auto again = outbox.claim(t0 + 5min, 1, t0 + 10min);
    REQUIRE(again.size() == 1);
    CHECK(again[0].firing.id == "x");
}

TEST_CASE("claim honours its limit", "[outbox]") {
    auto storage = herald::test::make_storage();
    herald::OutboxStore& outbox = storage->outbox();
    for (int i = 0; i < 5; ++i) {
        const herald::Delivery d = delivery("d" + std::to_string(i), t0);
        outbox.enqueue({&d, 1});
    }
    CHECK(outbox.claim(t0, 2, t0 + 1min).size() == 2);
    CHECK(outbox.claim(t0, 10, t0 + 1min).size() == 3);
}

TEST_CASE("settle completes, reschedules and dead-letters", "[outbox]") {
    auto storage = herald::test::make_storage();
    herald::OutboxStore& outbox = storage->outbox();
    const herald::Delivery ds[] = {delivery("done", t0), delivery("again", t0),
                                   delivery("dead", t0)};
    outbox.enqueue(ds);
    REQUIRE(outbox.claim(t0, 10, t0 + 5min).size() == 3);
    using Kind = herald::OutboxUpdate::Kind;
    const herald::OutboxUpdate updates[] = {
        update("done", Kind::complete), update("again", Kind::reschedule, t0 + 5s, 1),
        update("dead", Kind::dead_letter), update("unknown", Kind::complete)};
    outbox.settle(updates);

    CHECK(outbox.pending_count() == 1);
    CHECK(outbox.next_due() == t0 + 5s);
    auto claimed = outbox.claim(t0 + 5s, 10, t0 + 5min);
    REQUIRE(claimed.size() == 1);
    CHECK(claimed[0].firing.id == "again");
    CHECK(claimed[0].attempts == 1);

    auto dead = outbox.dead_letters();
    REQUIRE(dead.size() == 1);
    CHECK(dead[0].firing.id == "dead");
    CHECK(outbox.dead_count() == 1);
}

TEST_CASE("replay makes a dead letter due again with its attempts", "[outbox]") {
    auto storage = herald::test::make_storage();
    herald::OutboxStore& outbox = storage->outbox();
    const herald::Delivery d = delivery("x", t0);
    outbox.enqueue({&d, 1});
    outbox.claim(t0, 1, t0 + 1min);
    const herald::OutboxUpdate dead = update("x", herald::OutboxUpdate::Kind::dead_letter, {}, 8);
    const herald::OutboxUpdate again =
        update("x", herald::OutboxUpdate::Kind::reschedule, t0 + 1s, 8);
    outbox.settle({&again, 1});
    outbox.claim(t0 + 1s, 1, t0 + 1min);
    outbox.settle({&dead, 1});
    CHECK_FALSE(outbox.next_due());
    CHECK(outbox.dead_count() == 1);

    CHECK_FALSE(outbox.replay("unknown", t0));
    REQUIRE(outbox.replay("x", t0 + 1h));
    CHECK(outbox.dead_letters().empty());
    CHECK(outbox.dead_count() == 0);
    auto claimed = outbox.claim(t0 + 1h, 1, t0 + 2h);
    REQUIRE(claimed.size() == 1);
    CHECK(claimed[0].attempts == 8);
    CHECK(claimed[0].round_start == 8);
}

TEST_CASE("enqueue refuses an id already in the outbox, all or none", "[outbox]") {
    auto storage = herald::test::make_storage();
    herald::OutboxStore& outbox = storage->outbox();
    const herald::Delivery d = delivery("x", t0);
    outbox.enqueue({&d, 1});
    const herald::Delivery ds[] = {delivery("y", t0), delivery("x", t0)};
    CHECK_THROWS_AS(outbox.enqueue(ds), herald::Error);
    CHECK(outbox.pending_count() == 1);
}
