// Engine::automation_summary: one automation's last execution and its recent firings by
// status, for whoever may read its history. The integration streak needs a dispatcher: the
// live tests (tests/live/dispatcher_test.cpp) check it.
#include "support/error_of.hpp"
#include "support/event_builders.hpp"

#include <herald/engine.hpp>
#include <herald/error.hpp>
#include <herald/memory_storage.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>

using namespace herald;
using namespace std::chrono_literals;
using herald::test::admin_of;
using herald::test::error_of;

namespace {

Automation alias_rule(std::string name, Scope scope) {
    return {.name = std::move(name),
            .scope = std::move(scope),
            .trigger = trigger::AddArtifactAlias{.alias = Pattern{"production"}}};
}

/// Every status once, in the order of `FiringStatus`.
FiringCounts counts(std::size_t pending, std::size_t finished, std::size_t failed,
                    std::size_t dead) {
    return {{FiringStatus::pending, pending},
            {FiringStatus::finished, finished},
            {FiringStatus::failed, failed},
            {FiringStatus::skipped, 0},
            {FiringStatus::dead, dead}};
}

const Principal member{.user = "bob", .roles = {Role::entity_member("acme")}};

struct Fixture {
    std::shared_ptr<MemoryStorage> storage = std::make_shared<MemoryStorage>();
    std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>(
        Timestamp{std::chrono::sys_days{std::chrono::year{2026} / 11 / 22}});
    Engine engine{{.storage = storage, .clock = clock}};

    /// Creates an alias automation named `project` in acme/`project`; its id.
    std::string create_in(const std::string& project) {
        return engine.automations()
            .create(admin_of("acme"), alias_rule(project, Scope::for_project("acme", project)))
            .id;
    }
    /// Publishes an alias event in acme/`project`; the id of the firing of `automation_id`.
    std::string fire(const std::string& project, const std::string& automation_id) {
        for (const Firing& f :
             engine.publish(test::alias_added("acme", project, "clf", "production")).firings)
            if (f.automation_id == automation_id)
                return f.id;
        FAIL("automation " << automation_id << " did not fire");
        return {};
    }
    void set_status(const std::string& firing_id, FiringStatus status) {
        const FiringUpdate update{.firing_id = firing_id, .status = status};
        storage->history().update({&update, 1});
    }
};

}  // namespace

TEST_CASE("a summary shows the last execution and the window's firings by status",
          "[engine][summary]") {
    Fixture fx;
    const std::string id = fx.create_in("mnist");
    const std::string other = fx.create_in("cifar");

    // Never fired: no last execution, nothing counted.
    const AutomationSummary none = fx.engine.automation_summary(member, id);
    CHECK(none.automation_id == id);
    CHECK_FALSE(none.last_execution);
    CHECK(none.window_start == fx.clock->now() - 24h);
    CHECK(none.counts == counts(0, 0, 0, 0));
    CHECK_FALSE(none.integration_streak);

    // Two days ago, then within the last day: the old one is out of the window.
    const std::string old = fx.fire("mnist", id);
    fx.set_status(old, FiringStatus::dead);
    fx.clock->advance(47h);
    const std::string failed = fx.fire("mnist", id);
    fx.set_status(failed, FiringStatus::failed);
    fx.clock->advance(30min);
    fx.fire("mnist", id);
    fx.fire("cifar", other);  // another automation's firing counts for it only
    fx.clock->advance(30min);
    const std::string last = fx.fire("mnist", id);
    fx.set_status(last, FiringStatus::pending);

    const AutomationSummary day = fx.engine.automation_summary(member, id);
    REQUIRE(day.last_execution);
    CHECK(day.last_execution->id == last);
    CHECK(day.last_execution->status == FiringStatus::pending);
    CHECK(day.window_start == fx.clock->now() - 24h);
    CHECK(day.counts == counts(1, 1, 1, 0));  // no action: finished once recorded

    CHECK(fx.engine.automation_summary(member, id, 45min).counts == counts(1, 1, 0, 0));
    CHECK(fx.engine.automation_summary(member, id, 72h).counts == counts(1, 1, 1, 1));
    // The window starts at its first instant: a firing exactly then counts.
    CHECK(fx.engine.automation_summary(member, id, 30min).counts == counts(1, 1, 0, 0));
    CHECK(fx.engine.automation_summary(member, other).counts == counts(0, 1, 0, 0));
}

TEST_CASE("a summary is refused for an unknown automation, another entity's, a bad window",
          "[engine][summary]") {
    Fixture fx;
    const std::string id = fx.create_in("mnist");

    const Error unknown = error_of([&] { fx.engine.automation_summary(member, "no-such-id"); });
    CHECK(unknown.code() == errc::not_found);
    CHECK(unknown.field() == "id");

    const Principal stranger{.user = "eve", .roles = {Role::entity_admin("other")}};
    const Error denied = error_of([&] { fx.engine.automation_summary(stranger, id); });
    CHECK(denied.code() == errc::permission_denied);
    CHECK(denied.reason() == "'eve' may not read the history of acme/mnist");

    for (const std::chrono::seconds window : {0s, -1s}) {
        const Error bad = error_of([&] { fx.engine.automation_summary(member, id, window); });
        CHECK(bad.code() == errc::invalid_argument);
        CHECK(bad.field() == "window");
    }
}

namespace {

/// Allows everything, noting where it was asked.
class RecordingAuthorizer final : public Authorizer {
  public:
    bool allows(const Principal&, Permission what, const Scope& where) const override {
        if (what == Permission::view_history)
            asked.push_back(where);
        return true;
    }
    mutable std::vector<Scope> asked;
};

}  // namespace

TEST_CASE("a summary asks for the history of the automation's project, or of its entity",
          "[engine][summary]") {
    auto authorizer = std::make_shared<RecordingAuthorizer>();
    Engine engine{{.authorizer = authorizer}};
    engine.integrations().create(
        admin_of("acme"),
        WebhookIntegration{.entity = "acme", .name = "deploy", .url = "https://ci.example.com/h"});
    Automation hook = alias_rule("hook", Scope::for_registry("acme", "model-registry"));
    hook.action = action::Webhook{.integration = "deploy", .payload = "{}"};
    const std::string in_registry = engine.automations().create(admin_of("acme"), hook).id;
    const std::string in_entity =
        engine.automations()
            .create(admin_of("acme"), alias_rule("all", Scope::for_entity("acme")))
            .id;

    // Without a dispatcher nothing is delivered, so no integration is seen failing.
    CHECK_FALSE(engine.automation_summary(admin_of("acme"), in_registry).integration_streak);
    engine.automation_summary(admin_of("acme"), in_entity);
    REQUIRE(authorizer->asked.size() == 2);
    CHECK(authorizer->asked[0] == Scope::for_project("acme", "model-registry"));
    CHECK(authorizer->asked[1] == Scope::for_entity("acme"));
}
