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

TEST_CASE("a renewed lease holds the delivery, and only its holder may renew or settle it",
          "[outbox]") {
    using Kind = herald::OutboxUpdate::Kind;
    auto storage = herald::test::make_storage();
    herald::OutboxStore& outbox = storage->outbox();
    const herald::Delivery d = delivery("x", t0);
    outbox.enqueue({&d, 1});
    REQUIRE(outbox.claim(t0, 1, t0 + 1min).size() == 1);

    // The holder renews before the lease ends: nobody else claims it meanwhile.
    herald::OutboxUpdate renew = update("x", Kind::renew, t0 + 3min);
    renew.lease = t0 + 1min;
    CHECK(outbox.settle({&renew, 1}).empty());
    CHECK(outbox.next_due() == t0 + 3min);
    CHECK(outbox.claim(t0 + 2min, 1, t0 + 10min).empty());

    // It stalls past the renewed lease; another claimer takes the delivery.
    REQUIRE(outbox.claim(t0 + 3min, 1, t0 + 8min).size() == 1);
    herald::OutboxUpdate late = update("x", Kind::complete);
    late.lease = t0 + 3min;
    herald::OutboxUpdate late_renew = update("x", Kind::renew, t0 + 20min);
    late_renew.lease = t0 + 3min;
    const herald::OutboxUpdate stale[] = {late, late_renew};
    CHECK(outbox.settle(stale) == std::vector<std::string>{"x", "x"});
    CHECK(outbox.pending_count() == 1);
    CHECK(outbox.next_due() == t0 + 8min);  // the new holder's lease, untouched

    // The new holder settles under its own lease.
    herald::OutboxUpdate retry = update("x", Kind::reschedule, t0 + 9min, 1);
    retry.lease = t0 + 8min;
    CHECK(outbox.settle({&retry, 1}).empty());
    CHECK(outbox.next_due() == t0 + 9min);

    // Waiting, not claimed: an update with a lease finds none to match; one without applies.
    herald::OutboxUpdate unclaimed = update("x", Kind::complete);
    unclaimed.lease = t0 + 8min;
    CHECK(outbox.settle({&unclaimed, 1}) == std::vector<std::string>{"x"});
    CHECK(outbox.pending_count() == 1);
    const herald::OutboxUpdate by_hand = update("x", Kind::complete);
    CHECK(outbox.settle({&by_hand, 1}).empty());
    CHECK(outbox.pending_count() == 0);

    // Gone: with a lease it is lost, without one it is ignored.
    CHECK(outbox.settle({&unclaimed, 1}) == std::vector<std::string>{"x"});
    CHECK(outbox.settle({&by_hand, 1}).empty());
}

TEST_CASE("a settlement under a lost lease leaves the history to the new holder", "[outbox]") {
    using Kind = herald::OutboxUpdate::Kind;
    auto storage = herald::test::make_storage();
    herald::Firing f{.id = "f1", .automation_id = "a1", .time = t0};
    f.event.entity = "acme";
    const herald::NewDelivery nd{.firing = 0,
                                 .action = herald::action::Webhook{.integration = "deploy"},
                                 .trigger = herald::TriggerKind::add_artifact_alias,
                                 .due = t0};
    storage->record_firings({&f, 1}, {&nd, 1});
    REQUIRE(storage->outbox().claim(t0, 1, t0 + 1min).size() == 1);
    REQUIRE(storage->outbox().claim(t0 + 1min, 1, t0 + 2min).size() == 1);  // taken over

    const auto finished = [&](int number) {
        return herald::FiringUpdate{
            .firing_id = "f1",
            .status = herald::FiringStatus::finished,
            .attempt = herald::DeliveryAttempt{.number = number, .time = t0, .status_code = 200}};
    };
    const herald::FiringUpdate first = finished(1);
    herald::OutboxUpdate done = update("f1", Kind::complete);
    done.lease = t0 + 1min;
    CHECK(storage->settle({.history = {&first, 1}, .outbox = {&done, 1}}).lost ==
          std::vector<std::string>{"f1"});
    auto firing = storage->history().find("f1");
    REQUIRE(firing);
    CHECK(firing->status == herald::FiringStatus::pending);
    CHECK(firing->attempts.empty());
    CHECK(storage->outbox().pending_count() == 1);

    const herald::FiringUpdate second = finished(1);
    done.lease = t0 + 2min;
    CHECK(storage->settle({.history = {&second, 1}, .outbox = {&done, 1}}).lost.empty());
    firing = storage->history().find("f1");
    REQUIRE(firing);
    CHECK(firing->status == herald::FiringStatus::finished);
    CHECK(firing->attempts.size() == 1);
    CHECK(storage->outbox().pending_count() == 0);
}

TEST_CASE("a firing keeps the action its delivery was recorded with", "[outbox]") {
    using Kind = herald::OutboxUpdate::Kind;
    auto storage = herald::test::make_storage();
    herald::Firing f{.id = "f1", .automation_id = "a1", .time = t0};
    f.event.entity = "acme";
    herald::Firing none = f;
    none.id = "f2";
    const herald::Action action = herald::action::Webhook{.integration = "deploy", .payload = "{}"};
    const herald::NewDelivery nd{.firing = 0,
                                 .action = action,
                                 .trigger = herald::TriggerKind::add_artifact_alias,
                                 .due = t0};
    const herald::Firing both[] = {f, none};
    storage->record_firings(both, {&nd, 1});
    const herald::RecordedAction recorded{.action = action,
                                          .trigger = herald::TriggerKind::add_artifact_alias};
    CHECK(storage->history().recorded_action("f1") == recorded);
    CHECK_FALSE(storage->history().recorded_action("f2"));  // recorded without a delivery
    CHECK_FALSE(storage->history().recorded_action("missing"));

    // Delivered, the delivery leaves the outbox; its action stays with the firing.
    REQUIRE(storage->outbox().claim(t0, 1, t0 + 1min).size() == 1);
    herald::OutboxUpdate done = update("f1", Kind::complete);
    done.lease = t0 + 1min;
    REQUIRE(storage->settle({.outbox = {&done, 1}}).lost.empty());
    CHECK(storage->outbox().pending_count() == 0);
    CHECK(storage->history().recorded_action("f1") == recorded);

    // A delivery enqueued on its own for a firing in the history: its action, at least while
    // it waits.
    herald::Delivery d = delivery("f3", t0);
    d.firing.event.entity = "acme";
    d.trigger = herald::TriggerKind::create_artifact;
    storage->history().append({&d.firing, 1});
    CHECK_FALSE(storage->history().recorded_action("f3"));
    storage->outbox().enqueue({&d, 1});
    CHECK(storage->history().recorded_action("f3") ==
          herald::RecordedAction{.action = d.action,
                                 .trigger = herald::TriggerKind::create_artifact});
}
