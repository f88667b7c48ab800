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

namespace {

/// An engine whose host declares acme's "model-registry" and "wandb-registry-datasets"
/// registries; every other project is a plain project.
struct RegistryFixture {
    Engine engine{{.is_registry = [](std::string_view entity, std::string_view project) {
        return entity == "acme" &&
               (project == "model-registry" || project == "wandb-registry-datasets");
    }}};
    Principal admin = admin_of("acme");
    AutomationManager& automations = engine.automations();

    Automation add(std::string name, Scope scope, Trigger trigger) {
        return automations.create(
            admin,
            {.name = std::move(name), .scope = std::move(scope), .trigger = std::move(trigger)});
    }
};

std::vector<std::string> names(const std::vector<Automation>& automations) {
    std::vector<std::string> out;
    for (const Automation& a : automations)
        out.push_back(a.name);
    return out;
}

Event linked(std::string project, std::string collection) {
    return test::artifact_event(
        "acme", std::move(project),
        ArtifactLinked{.version = test::version(std::move(collection)),
                       .source = {.entity = "acme", .project = "mnist", .collection = "cnn"}});
}

}  // namespace

TEST_CASE(
    "with registries declared, a registry scope names a registry and a project scope "
    "does not",
    "[automation_manager][registry]") {
    RegistryFixture f;
    const Error not_registry = error_of(
        [&] { f.add("a", Scope::for_registry("acme", "mnist"), trigger::LinkArtifact{}); });
    CHECK(not_registry.code() == errc::invalid_argument);
    CHECK(not_registry.field() == "scope.registry");
    CHECK_THAT(not_registry.reason(), Catch::Contains("'acme/mnist' is not a registry"));

    const Error is_registry = error_of([&] {
        f.add("a", Scope::for_project("acme", "model-registry"),
              trigger::AddArtifactAlias{.alias = Pattern{"production"}});
    });
    CHECK(is_registry.field() == "scope.project");
    CHECK_THAT(is_registry.reason(), Catch::Contains("is a registry; use a REGISTRY scope"));

    // Updates and imports are held to the same rule, naming the element.
    const Automation ok =
        f.add("ok", Scope::for_registry("acme", "model-registry"), trigger::LinkArtifact{});
    Automation moved = ok;
    moved.scope = Scope::for_registry("acme", "mnist");
    CHECK(error_of([&] { f.automations.update(f.admin, ok.id, moved); }).field() ==
          "scope.registry");
    const Error import = error_of([&] {
        f.automations.create_all(
            f.admin, {alias_rule("x"), Automation{.name = "y",
                                                  .scope = Scope::for_registry("acme", "mnist"),
                                                  .trigger = trigger::LinkArtifact{}}});
    });
    CHECK(import.field() == "[1].scope.registry");
    CHECK(f.automations.list(f.admin, Scope::for_project("acme", "mnist")).empty());

    // A host that declares nothing keeps accepting any project as a registry.
    Fixture plain;
    CHECK_NOTHROW(plain.automations.create(plain.admin,
                                           Automation{.name = "a",
                                                      .scope = Scope::for_registry("acme", "mnist"),
                                                      .trigger = trigger::LinkArtifact{}}));
}

TEST_CASE("link triggers fire only for links into a registry, when registries are declared",
          "[automation_manager][registry]") {
    RegistryFixture f;
    f.add("entity-links", Scope::for_entity("acme"), trigger::LinkArtifact{});
    f.add("registry-links", Scope::for_registry("acme", "model-registry"), trigger::LinkArtifact{});
    CHECK(f.engine.publish(linked("model-registry", "classifier")).firings.size() == 2);
    CHECK(f.engine.publish(linked("mnist", "classifier")).firings.empty());

    Fixture plain;
    plain.automations.create(plain.admin, Automation{.name = "entity-links",
                                                     .scope = Scope::for_entity("acme"),
                                                     .trigger = trigger::LinkArtifact{}});
    CHECK(plain.engine.publish(linked("mnist", "classifier")).firings.size() == 1);
}

TEST_CASE("list_applying_to gathers collection-, registry- and entity-level automations",
          "[automation_manager][registry]") {
    RegistryFixture f;
    const Scope registry = Scope::for_registry("acme", "model-registry");
    f.add("e-alias", Scope::for_entity("acme"),
          trigger::AddArtifactAlias{.alias = Pattern{"production"}});
    f.add("e-link", Scope::for_entity("acme"), trigger::LinkArtifact{});
    f.add("r-link", registry, trigger::LinkArtifact{});
    f.add("r-link-classifiers", registry,
          trigger::LinkArtifact{.collection = Pattern{"classifier-.*"}});
    f.add("r-link-other", registry, trigger::LinkArtifact{.collection = Pattern{"detector"}});
    f.add("c-classifier", Scope::for_collection("acme", "model-registry", "classifier-v2"),
          trigger::AddArtifactAlias{.alias = Pattern{"staging"}});
    f.add("c-detector", Scope::for_collection("acme", "model-registry", "detector"),
          trigger::LinkArtifact{});
    f.add("p-alias", Scope::for_project("acme", "mnist"),
          trigger::AddArtifactAlias{.alias = Pattern{"production"}});
    f.add("p-runs", Scope::for_project("acme", "mnist"),
          trigger::RunStateChange{.states = {RunState::failed}});
    f.add("p-classifier-too", Scope::for_collection("acme", "mnist", "classifier-v2"),
          trigger::CreateArtifact{});
    f.add("other-registry", Scope::for_registry("acme", "wandb-registry-datasets"),
          trigger::LinkArtifact{});
    f.engine.automations().create(admin_of("globex"),
                                  Automation{.name = "globex",
                                             .scope = Scope::for_entity("globex"),
                                             .trigger = trigger::LinkArtifact{}});

    // A registered model's Automations tab: its own, its registry's that match it, its entity's.
    CHECK(names(f.automations.list_applying_to(
              f.admin, Scope::for_collection("acme", "model-registry", "classifier-v2"))) ==
          std::vector<std::string>{"e-alias", "e-link", "r-link", "r-link-classifiers",
                                   "c-classifier"});
    // A registry's: everything in it and its entity's.
    CHECK(names(f.automations.list_applying_to(f.admin, registry)) ==
          std::vector<std::string>{"e-alias", "e-link", "r-link", "r-link-classifiers",
                                   "r-link-other", "c-classifier", "c-detector"});
    // A plain project's collection: entity-level links cannot fire there; run triggers are not
    // about collections.
    CHECK(names(f.automations.list_applying_to(
              f.admin, Scope::for_collection("acme", "mnist", "classifier-v2"))) ==
          std::vector<std::string>{"e-alias", "p-alias", "p-classifier-too"});
    CHECK(names(f.automations.list_applying_to(f.admin, Scope::for_project("acme", "mnist"))) ==
          std::vector<std::string>{"e-alias", "p-alias", "p-runs", "p-classifier-too"});
    // An entity's: all of it, entity-level first, then by path.
    CHECK(names(f.automations.list_applying_to(f.admin, Scope::for_entity("acme"))) ==
          std::vector<std::string>{"e-alias", "e-link", "p-alias", "p-runs", "r-link",
                                   "r-link-classifiers", "r-link-other", "other-registry",
                                   "p-classifier-too", "c-classifier", "c-detector"});
    // The exact-scope listing is unchanged.
    CHECK(names(f.automations.list(f.admin, registry)) ==
          std::vector<std::string>{"r-link", "r-link-classifiers", "r-link-other"});

    const Principal stranger = admin_of("globex");
    CHECK(error_of([&] { f.automations.list_applying_to(stranger, registry); }).code() ==
          errc::permission_denied);
}
