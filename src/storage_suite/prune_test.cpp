// Pruning on every backend: what a pass takes, what it must never take, and how it goes batch
// by batch. Linked into the unit (memory), SQLite and PostgreSQL suites.
#include "support/test_storage.hpp"

#include <herald/storage.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using S = herald::FiringStatus;

namespace {

const herald::Timestamp t0{std::chrono::hours{1000}};

herald::Firing firing(std::string id, herald::Timestamp time, S status = S::finished) {
    herald::Firing f;
    f.id = std::move(id);
    f.automation_id = "a";
    f.integration = "deploy";
    f.event.entity = "acme";
    f.event.project = "vision";
    f.time = time;
    f.status = status;
    return f;
}

/// Records firing `id` at `time` with a webhook delivery due then.
void record_with_delivery(herald::Storage& storage, const std::string& id, herald::Timestamp time) {
    const herald::Firing f[] = {firing(id, time, S::pending)};
    const herald::NewDelivery d{.firing = 0,
                                .action = herald::action::Webhook{.integration = "deploy"},
                                .trigger = herald::TriggerKind::add_artifact_alias,
                                .due = time};
    storage.record_firings(f, {&d, 1});
}

/// Claims every due delivery and settles each as `kind` with history status `status`.
void settle_all(herald::Storage& storage, herald::Timestamp now, herald::OutboxUpdate::Kind kind,
                S status) {
    for (const herald::Delivery& d : storage.outbox().claim(now, 100, now + 1min)) {
        const herald::FiringUpdate h{.firing_id = d.firing.id, .status = status};
        const herald::OutboxUpdate o{
            .delivery_id = d.firing.id, .kind = kind, .due = now + 1h, .attempts = 1};
        storage.settle({.history = {&h, 1}, .outbox = {&o, 1}});
    }
}

/// The ids of the firings the history holds, oldest first.
std::vector<std::string> remaining(herald::Storage& storage) {
    herald::HistoryQuery q;
    q.limit = 1000;
    std::vector<std::string> out;
    for (const herald::Firing& f : storage.history().query(q))
        out.insert(out.begin(), f.id);
    return out;
}

herald::PruneRequest request(herald::Timestamp settled_before, herald::Timestamp dead_before) {
    return {.settled_before = settled_before, .dead_before = dead_before, .batch = 2};
}

}  // namespace

TEST_CASE("pruning takes settled firings and old dead letters, never waiting deliveries",
          "[prune]") {
    auto storage = herald::test::make_storage();
    // Oldest first: settled ones, a delivery dead long ago and one dead lately, one retrying,
    // one claimed, one not claimed yet; the last two are recent.
    const herald::Firing settled[] = {firing("finished", t0), firing("failed", t0 + 1s, S::failed),
                                      firing("skipped", t0 + 2s, S::skipped)};
    storage->history().append(settled);
    record_with_delivery(*storage, "dead-old", t0 + 3s);
    settle_all(*storage, t0 + 3s, herald::OutboxUpdate::Kind::dead_letter, S::dead);
    record_with_delivery(*storage, "dead-new", t0 + 20s);
    settle_all(*storage, t0 + 20s, herald::OutboxUpdate::Kind::dead_letter, S::dead);
    record_with_delivery(*storage, "retrying", t0 + 4s);
    settle_all(*storage, t0 + 4s, herald::OutboxUpdate::Kind::reschedule, S::pending);
    record_with_delivery(*storage, "claimed", t0 + 5s);
    REQUIRE(storage->outbox().claim(t0 + 5s, 10, t0 + 1h).size() == 1);
    record_with_delivery(*storage, "queued", t0 + 6s);
    storage->history().append(std::vector{firing("recent", t0 + 60s), firing("newest", t0 + 70s)});
    REQUIRE(storage->outbox().dead_count() == 2);

    const herald::PruneResult r = storage->prune(request(t0 + 30s, t0 + 10s));
    CHECK(r.firings == 3);
    CHECK(r.dead_letters == 1);
    CHECK(r.bodies == 0);
    CHECK(r.batches >= 4);  // two firings looked at per batch
    CHECK(remaining(*storage) == std::vector<std::string>{"dead-new", "retrying", "claimed",
                                                          "queued", "recent", "newest"});
    CHECK(storage->outbox().dead_count() == 1);
    CHECK(storage->outbox().dead_letters().front().firing.id == "dead-new");
    CHECK_FALSE(storage->outbox().replay("dead-old", t0 + 1h));
    CHECK(storage->outbox().pending_count() == 3);

    // The deliveries still waiting are claimed and settled as before.
    std::vector<std::string> claimed;
    for (const herald::Delivery& d : storage->outbox().claim(t0 + 2h, 10, t0 + 3h))
        claimed.push_back(d.firing.id);
    std::sort(claimed.begin(), claimed.end());
    CHECK(claimed == std::vector<std::string>{"claimed", "queued", "retrying"});

    // Nothing more is due to go.
    CHECK(storage->prune(request(t0 + 30s, t0 + 10s)).firings == 0);
}

TEST_CASE("pruning keeps the newest firing, and deliveries recorded after it are claimed",
          "[prune]") {
    auto storage = herald::test::make_storage();
    record_with_delivery(*storage, "1", t0);
    record_with_delivery(*storage, "2", t0 + 1s);
    settle_all(*storage, t0 + 1s, herald::OutboxUpdate::Kind::complete, S::finished);

    // Both are old enough; the newest stays (a backend may number new firings from it).
    const herald::PruneResult r = storage->prune(request(t0 + 1h, t0 + 1h));
    CHECK(r.firings == 1);
    CHECK(remaining(*storage) == std::vector<std::string>{"2"});

    record_with_delivery(*storage, "3", t0 + 2s);
    const auto claimed = storage->outbox().claim(t0 + 2s, 10, t0 + 1min);
    REQUIRE(claimed.size() == 1);
    CHECK(claimed.front().firing.id == "3");
}

TEST_CASE("pruning keeps at most the newest keep firings whatever their age", "[prune]") {
    auto storage = herald::test::make_storage();
    std::vector<herald::Firing> fs;
    for (int i = 0; i < 10; ++i)
        fs.push_back(firing("f" + std::to_string(i), t0 + std::chrono::seconds{i}));
    fs[2].status = S::pending;  // pending: never taken, though past the count
    storage->history().append(fs);

    herald::PruneRequest bound = request(t0 - 1h, t0 - 1h);
    bound.keep = 4;
    const herald::PruneResult r = storage->prune(bound);
    CHECK(r.firings == 5);
    CHECK(remaining(*storage) == std::vector<std::string>{"f2", "f6", "f7", "f8", "f9"});
    CHECK(storage->prune(bound).firings == 0);
}

TEST_CASE("pruning expunges bodies of older firings once and keeps the rest of them", "[prune]") {
    auto storage = herald::test::make_storage();
    std::vector<herald::Firing> fs;
    for (int i = 0; i < 5; ++i) {
        herald::Firing f = firing("f" + std::to_string(i), t0 + std::chrono::seconds{i});
        f.payload = R"({"text":"run )" + std::to_string(i) + R"( finished"})";
        f.attempts.push_back({.number = 1,
                              .time = f.time,
                              .status_code = 500,
                              .error = "HTTP 500",
                              .response_body = "try later"});
        f.attempts.push_back({.number = 2, .time = f.time + 1s, .status_code = 200});
        fs.push_back(std::move(f));
    }
    fs[1].payload.clear();
    fs[1].attempts.clear();  // nothing to expunge: not counted
    storage->history().append(fs);

    herald::PruneRequest bodies = request(t0 - 1h, t0 - 1h);
    bodies.bodies_before = t0 + 3s;
    const herald::PruneResult r = storage->prune(bodies);
    CHECK(r.firings == 0);
    CHECK(r.bodies == 2);
    for (const char* id : {"f0", "f2"}) {
        const std::optional<herald::Firing> f = storage->history().find(id);
        REQUIRE(f);
        CHECK(f->payload.empty());
        REQUIRE(f->attempts.size() == 2);
        CHECK(f->attempts[0].response_body.empty());
        CHECK(f->attempts[0].error == "HTTP 500");
        CHECK(f->attempts[0].status_code == 500);
        CHECK(f->status == S::finished);
    }
    const std::optional<herald::Firing> kept = storage->history().find("f3");
    REQUIRE(kept);
    CHECK(kept->payload == fs[3].payload);
    CHECK(kept->attempts[0].response_body == "try later");

    // The store remembers how far it got: a body written again later is left alone.
    const herald::FiringUpdate again{
        .firing_id = "f0", .status = S::finished, .payload = R"({"text":"replayed"})"};
    storage->history().update({&again, 1});
    CHECK(storage->prune(bodies).bodies == 0);
    CHECK(storage->history().find("f0")->payload == again.payload);

    bodies.bodies_before = t0 + 10s;
    CHECK(storage->prune(bodies).bodies == 2);
    CHECK(storage->history().find("f4")->payload.empty());
}

TEST_CASE("a pruning pass asked to stop writes nothing more", "[prune]") {
    auto storage = herald::test::make_storage();
    storage->history().append(std::vector{firing("1", t0), firing("2", t0 + 1s)});
    std::stop_source stop;
    stop.request_stop();
    herald::PruneRequest r = request(t0 + 1h, t0 + 1h);
    r.stop = stop.get_token();
    CHECK(storage->prune(r) == herald::PruneResult{});
    CHECK(remaining(*storage).size() == 2);
}

TEST_CASE("pruning forgets the ids of events published before the settled cut-off", "[prune]") {
    auto storage = herald::test::make_storage();
    const herald::Firing fs[] = {firing("1", t0), firing("2", t0 + 1s), firing("3", t0 + 2h)};
    const char* ids[] = {"ev-1", "ev-2", "ev-3"};
    for (std::size_t i = 0; i < 3; ++i)
        storage->record_publish({.firings = {&fs[i], 1}, .event_id = ids[i], .time = fs[i].time});
    // Batches of 2: two ids in the first, none in the second; the newest stays.
    const herald::PruneResult r = storage->prune(request(t0 + 1h, t0 + 1h));
    CHECK(r.event_ids == 2);
    CHECK_FALSE(storage->history().event_firings("ev-1"));
    CHECK_FALSE(storage->history().event_firings("ev-2"));
    REQUIRE(storage->history().event_firings("ev-3"));
    CHECK(storage->history().event_firings("ev-3")->front().id == "3");
    // Forgotten, an id may be recorded again.
    const herald::Firing later[] = {firing("4", t0 + 3h)};
    storage->record_publish({.firings = later, .event_id = "ev-1", .time = t0 + 3h});
    CHECK(storage->history().event_firings("ev-1")->front().id == "4");
    CHECK(storage->prune(request(t0 + 1h, t0 + 1h)).event_ids == 0);
}
