// The pipeline behind `herald publish` (src/cli/publish_pipeline.hpp), in process, over storage
// whose commits the test completes by hand and in any order.
#include "cli/publish_pipeline.hpp"
#include "support/event_builders.hpp"
#include "support/forwarding_storage.hpp"

#include <herald/error.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using namespace herald;
using namespace std::chrono_literals;
using herald::cli::LineOutcome;
using herald::cli::PublishPipeline;

namespace {

/// Memory storage that holds every asynchronous recording until the test completes it.
class HeldStorage final : public test::ForwardingStorage {
  public:
    void record_publish_async(const PublishRecord& record,
                              std::function<void(std::exception_ptr)> done) override {
        std::lock_guard lock(mutex_);
        held_.push_back({record, std::move(done)});
    }

    std::size_t held() {
        std::lock_guard lock(mutex_);
        return held_.size();
    }
    /// Completes the i-th recording (in the order they came): records it, or fails it. The
    /// callback is let go once called, as every store does: it owns the engine's pending publish,
    /// which owns this storage.
    void complete(std::size_t i, bool fail = false) {
        PublishRecord record;
        std::function<void(std::exception_ptr)> done;
        {
            std::lock_guard lock(mutex_);
            record = held_.at(i).record;
            done = std::exchange(held_.at(i).done, nullptr);
        }
        if (fail) {
            done(std::make_exception_ptr(Error(errc::storage_failure, "", "disk on fire")));
            return;
        }
        memory_.record_publish(record);
        done(nullptr);
    }

  private:
    struct Held {
        PublishRecord record;
        std::function<void(std::exception_ptr)> done;
    };
    std::mutex mutex_;
    std::vector<Held> held_;
};

/// What the reporter was given, batch after batch, as one list.
struct Reported {
    std::mutex mutex;
    std::condition_variable changed;
    std::vector<LineOutcome> lines;

    PublishPipeline::Reporter reporter() {
        return [this](std::span<const LineOutcome> batch) {
            std::lock_guard lock(mutex);
            lines.insert(lines.end(), batch.begin(), batch.end());
            changed.notify_all();
        };
    }
    /// The lines reported once `count` are, or after 5 s.
    std::vector<LineOutcome> wait_for(std::size_t count) {
        std::unique_lock lock(mutex);
        changed.wait_for(lock, 5s, [&] { return lines.size() >= count; });
        return lines;
    }
    std::size_t size() {
        std::lock_guard lock(mutex);
        return lines.size();
    }
};

struct Fixture {
    Fixture() {
        engine.automations().create(
            test::admin_of("acme"),
            {.name = "deploy",
             .scope = Scope::for_project("acme", "mnist"),
             .trigger = trigger::AddArtifactAlias{.alias = Pattern{"production"}}});
    }
    static Event event(std::string id) {
        Event e = test::alias_added("acme", "mnist", "clf", "production");
        e.id = std::move(id);
        return e;
    }
    /// Waits (up to 5 s) until `count` recordings are held.
    bool held(std::size_t count) {
        for (int i = 0; i < 500 && storage->held() < count; ++i)
            std::this_thread::sleep_for(10ms);
        return storage->held() == count;
    }

    std::shared_ptr<HeldStorage> storage = std::make_shared<HeldStorage>();
    Engine engine{{.storage = storage}};
    Reported reported;
};

}  // namespace

TEST_CASE("publish pipeline: outcomes are reported in input order, whatever order commits end in",
          "[publish_pipeline]") {
    Fixture f;
    PublishPipeline pipeline(f.engine, 8, f.reported.reporter());
    pipeline.publish(1, Fixture::event("one"));
    pipeline.publish(2, Fixture::event("two"));
    pipeline.publish(3, Fixture::event("three"));
    pipeline.refuse(4, "entity: is required");
    pipeline.publish(6, Fixture::event("six"));
    REQUIRE(f.held(4));
    f.storage->complete(3);                 // line 6
    f.storage->complete(1);                 // line 2
    f.storage->complete(2, /*fail=*/true);  // line 3
    std::this_thread::sleep_for(50ms);
    CHECK(f.reported.size() == 0);  // line 1 is not settled yet: nothing may be reported
    CHECK(pipeline.refused());      // line 4 was refused already

    f.storage->complete(0);  // line 1
    const std::vector<LineOutcome> lines = f.reported.wait_for(5);
    pipeline.finish();
    REQUIRE(lines.size() == 5);
    CHECK(lines[0].line == 1);
    CHECK(lines[0].receipt.event_id == "one");
    CHECK(lines[0].error.empty());
    CHECK(lines[0].receipt.firings.size() == 1);
    CHECK(lines[1].receipt.event_id == "two");
    CHECK(lines[2].line == 3);
    CHECK(lines[2].error == make_error_code(errc::storage_failure).message());
    CHECK(lines[2].receipt.firings.empty());
    CHECK(lines[3].line == 4);
    CHECK(lines[3].error == "entity: is required");
    CHECK(lines[4].line == 6);
    CHECK(lines[4].receipt.event_id == "six");
    CHECK(f.engine.history().find(lines[4].receipt.firings.at(0).id));
}

TEST_CASE("publish pipeline: no more than the window is in flight", "[publish_pipeline]") {
    Fixture f;
    PublishPipeline pipeline(f.engine, 2, f.reported.reporter());
    pipeline.publish(1, Fixture::event("one"));
    pipeline.publish(2, Fixture::event("two"));
    std::thread third([&] { pipeline.publish(3, Fixture::event("three")); });
    REQUIRE(f.held(2));
    std::this_thread::sleep_for(50ms);
    CHECK(f.storage->held() == 2);  // the window is full: the third waits

    f.storage->complete(1);
    std::this_thread::sleep_for(50ms);
    CHECK(f.storage->held() == 2);  // line 2 is settled but line 1 is not: still full

    f.storage->complete(0);
    CHECK(f.held(3));
    third.join();
    f.storage->complete(2);
    pipeline.finish();
    CHECK(f.reported.size() == 3);
    CHECK_FALSE(pipeline.refused());
}
