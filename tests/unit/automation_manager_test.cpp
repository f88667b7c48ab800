#include "support/event_builders.hpp"

#include <herald/engine.hpp>
#include <herald/error.hpp>

#include <catch2/catch.hpp>

using namespace herald;
using namespace std::chrono_literals;
using herald::test::admin_of;

namespace {

Automation alias_rule(std::string name, Scope scope = Scope::for_project("acme", "mnist")) {
    return {.name = std::move(name),
            .scope = std::move(scope),
            .trigger = trigger::AddArtifactAlias{.alias = Pattern{"production"}}};
}

template <class F>
Error error_of(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        return e;
    }
    FAIL("expected herald::Error");
    throw;
}

struct Fixture {
    std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>(Timestamp{1000h});
    Engine engine{{.clock = clock}};
    Principal admin = admin_of("acme");
    AutomationManager& automations = engine.automations();
};

}  // namespace

TEST_CASE("create sets id, creator and timestamps, get returns it", "[automation_manager]") {
    Fixture f;
    Automation in = alias_rule("deploy");
    in.id = "ignored";
    in.creator = "ignored";
    const Automation a = f.automations.create(f.admin, in);
    CHECK_FALSE(a.id.empty());
    CHECK(a.id != "ignored");
    CHECK(a.creator == "admin");
    CHECK(a.created_at == Timestamp{1000h});
    CHECK(a.updated_at == a.created_at);
    CHECK(f.automations.get(f.admin, a.id) == a);
}

TEST_CASE("names are unique within a scope, not across scopes", "[automation_manager]") {
    Fixture f;
    f.automations.create(f.admin, alias_rule("deploy"));
    const Error e = error_of([&] { f.automations.create(f.admin, alias_rule("deploy")); });
    CHECK(e.code() == errc::already_exists);
    CHECK(e.field() == "name");
    CHECK_NOTHROW(
        f.automations.create(f.admin, alias_rule("deploy", Scope::for_project("acme", "cifar"))));
    CHECK_NOTHROW(
        f.automations.create(f.admin, alias_rule("deploy", Scope::for_registry("acme", "mnist"))));
    CHECK(f.automations.list(f.admin, Scope::for_project("acme", "mnist")).size() == 1);
}

TEST_CASE("update keeps id, creator and creation time, renaming onto a taken name fails",
          "[automation_manager]") {
    Fixture f;
    const Automation a = f.automations.create(f.admin, alias_rule("a"));
    const Automation b = f.automations.create(f.admin, alias_rule("b"));
    f.clock->advance(1h);
    Automation changed = alias_rule("a-renamed");
    changed.description = "now with a description";
    const Automation updated = f.automations.update(f.admin, a.id, changed);
    CHECK(updated.id == a.id);
    CHECK(updated.creator == a.creator);
    CHECK(updated.created_at == a.created_at);
    CHECK(updated.updated_at == Timestamp{1001h});
    CHECK(updated.description == "now with a description");

    const Error e = error_of([&] { f.automations.update(f.admin, b.id, alias_rule("a-renamed")); });
    CHECK(e.code() == errc::already_exists);
    CHECK(f.automations.get(f.admin, b.id).name == "b");
    CHECK_NOTHROW(f.automations.update(f.admin, b.id, alias_rule("b")));  // its own name is fine
}

TEST_CASE("list returns the scope's automations by name", "[automation_manager]") {
    Fixture f;
    for (const char* n : {"zeta", "alpha", "mid"})
        f.automations.create(f.admin, alias_rule(n));
    f.automations.create(f.admin, alias_rule("elsewhere", Scope::for_project("acme", "cifar")));
    std::vector<std::string> names;
    for (const Automation& a : f.automations.list(f.admin, Scope::for_project("acme", "mnist")))
        names.push_back(a.name);
    CHECK(names == std::vector<std::string>{"alpha", "mid", "zeta"});
}

TEST_CASE("unknown ids are not_found", "[automation_manager]") {
    Fixture f;
    CHECK(error_of([&] { f.automations.get(f.admin, "nope"); }).code() == errc::not_found);
    CHECK(error_of([&] { f.automations.remove(f.admin, "nope"); }).code() == errc::not_found);
    CHECK(error_of([&] { f.automations.set_enabled(f.admin, "nope", false); }).code() ==
          errc::not_found);
    CHECK(error_of([&] { f.automations.update(f.admin, "nope", alias_rule("x")); }).code() ==
          errc::not_found);
}

TEST_CASE("invalid automations are refused with the field, and nothing is created",
          "[automation_manager]") {
    Fixture f;
    struct Case {
        Automation automation;
        std::string field;
    };
    Automation empty_name = alias_rule("");
    Automation long_name = alias_rule(std::string(256, 'x'));
    Automation wrong_scope = alias_rule("s");
    wrong_scope.trigger = trigger::LinkArtifact{};  // not allowed in a project scope
    Automation zero_window{.name = "w",
                           .scope = Scope::for_project("acme", "mnist"),
                           .trigger = trigger::MetricThreshold{.metric = "loss", .window = 0}};
    Automation no_metric{.name = "m",
                         .scope = Scope::for_project("acme", "mnist"),
                         .trigger = trigger::MetricThreshold{}};
    Automation bad_amount{.name = "c",
                          .scope = Scope::for_project("acme", "mnist"),
                          .trigger = trigger::MetricChange{.metric = "loss", .amount = 0}};
    Automation killed{.name = "k",
                      .scope = Scope::for_project("acme", "mnist"),
                      .trigger = trigger::RunStateChange{.states = {RunState::killed}}};
    Automation no_states{.name = "n",
                         .scope = Scope::for_project("acme", "mnist"),
                         .trigger = trigger::RunStateChange{}};
    Automation bad_payload = alias_rule("p");
    bad_payload.action = action::Webhook{.integration = "deploy", .payload = "{not json"};
    Automation no_project = alias_rule("np", Scope::for_project("acme", ""));
    const std::vector<Case> cases{
        {empty_name, "name"},
        {long_name, "name"},
        {wrong_scope, "trigger.type"},
        {zero_window, "trigger.window"},
        {no_metric, "trigger.metric"},
        {bad_amount, "trigger.amount"},
        {killed, "trigger.states"},
        {no_states, "trigger.states"},
        {bad_payload, "action.payload"},
        {no_project, "scope.project"},
    };
    for (const Case& c : cases) {
        INFO(c.field);
        const Error e = error_of([&] { f.automations.create(f.admin, c.automation); });
        // A payload that is not JSON says so; every other mistake is an invalid argument.
        CHECK(e.code() ==
              (c.field == "action.payload" ? errc::invalid_json : errc::invalid_argument));
        CHECK(e.field() == c.field);
        CHECK_FALSE(e.reason().empty());
    }
    CHECK(f.automations.list(f.admin, Scope::for_project("acme", "mnist")).empty());
}

TEST_CASE("create_all writes all or nothing", "[automation_manager]") {
    Fixture f;
    f.automations.create(f.admin, alias_rule("taken"));
    Automation bad{.name = "bad",
                   .scope = Scope::for_project("acme", "mnist"),
                   .trigger = trigger::MetricZScore{.metric = "loss", .window = 1}};

    Error e = error_of([&] {
        f.automations.create_all(f.admin, {alias_rule("one"), alias_rule("two"), bad});
    });
    CHECK(e.field() == "[2].trigger.window");

    e = error_of([&] {
        f.automations.create_all(f.admin, {alias_rule("one"), alias_rule("taken")});
    });
    CHECK(e.code() == errc::already_exists);
    CHECK(e.field() == "[1].name");

    e = error_of([&] {
        f.automations.create_all(f.admin, {alias_rule("dup"), alias_rule("dup")});
    });
    CHECK(e.code() == errc::already_exists);

    CHECK(f.automations.list(f.admin, Scope::for_project("acme", "mnist")).size() == 1);
    CHECK(f.automations.create_all(f.admin, {alias_rule("one"), alias_rule("two")}).size() == 2);
    CHECK(f.automations.list(f.admin, Scope::for_project("acme", "mnist")).size() == 3);
}

TEST_CASE("every call is authorized", "[automation_manager][authorizer]") {
    Fixture f;
    const Principal writer{.user = "wes", .roles = {Role::project_writer("acme", "mnist")}};
    const Principal member{.user = "meg", .roles = {Role::entity_member("acme")}};
    const Principal stranger{.user = "sam", .roles = {Role::entity_admin("globex")}};

    const Automation mine = f.automations.create(writer, alias_rule("mine"));
    CHECK(mine.creator == "wes");
    const auto denied = [](auto&& f) { return error_of(f).code() == errc::permission_denied; };
    CHECK(denied([&] {
        f.automations.create(writer, alias_rule("x", Scope::for_project("acme", "cifar")));
    }));
    CHECK(
        denied([&] { f.automations.create(writer, alias_rule("x", Scope::for_entity("acme"))); }));
    CHECK_NOTHROW(f.automations.create(f.admin, alias_rule("x", Scope::for_entity("acme"))));
    CHECK(denied([&] { f.automations.create(member, alias_rule("y")); }));
    CHECK_NOTHROW(f.automations.get(member, mine.id));
    CHECK_NOTHROW(f.automations.list(member, Scope::for_project("acme", "mnist")));
    CHECK(denied([&] { f.automations.get(stranger, mine.id); }));
    CHECK(denied([&] { f.automations.remove(member, mine.id); }));
    CHECK(denied([&] { f.automations.set_enabled(stranger, mine.id, false); }));
    // Moving an automation out of the writer's project needs rights on both sides.
    CHECK(denied([&] {
        f.automations.update(writer, mine.id,
                             alias_rule("mine", Scope::for_project("acme", "cifar")));
    }));
    CHECK_NOTHROW(f.automations.remove(writer, mine.id));
}

TEST_CASE("a host authorizer replaces the default rules", "[automation_manager][authorizer]") {
    struct OnlyRoot final : Authorizer {
        bool allows(const Principal& who, Permission, const Scope&) const override {
            return who.user == "root";
        }
    };
    Engine engine{{.authorizer = std::make_shared<OnlyRoot>()}};
    CHECK_NOTHROW(engine.automations().create({.user = "root"}, alias_rule("r")));
    CHECK(error_of([&] {
              engine.automations().create(admin_of("acme"), alias_rule("a"));
          }).code() == errc::permission_denied);
}
