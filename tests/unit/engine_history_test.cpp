// Engine::history: the history a host may show its users, authorized per entity and project,
// filtered in the store and paged.
#include "support/error_of.hpp"
#include "support/event_builders.hpp"

#include <herald/engine.hpp>
#include <herald/error.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace herald;
using herald::test::admin_of;
using herald::test::error_of;

namespace {

Automation alias_rule(std::string name, std::string entity, std::string project) {
    return {.name = std::move(name),
            .scope = Scope::for_project(entity, project),
            .trigger = trigger::AddArtifactAlias{.alias = Pattern{"production"}}};
}

std::vector<std::string> ids(const HistoryPage& page) {
    std::vector<std::string> out;
    for (const Firing& f : page.firings)
        out.push_back(f.id);
    return out;
}

}  // namespace

TEST_CASE("history through the engine is read per entity, by who may, a page at a time",
          "[engine][history]") {
    Engine engine;
    engine.automations().create(admin_of("acme"), alias_rule("mnist", "acme", "mnist"));
    engine.automations().create(admin_of("acme"), alias_rule("cifar", "acme", "cifar"));
    engine.automations().create(admin_of("other"), alias_rule("theirs", "other", "p"));
    std::vector<std::string> mnist, all;  // newest first
    for (int i = 0; i < 5; ++i) {
        for (const char* project : {"mnist", "cifar"}) {
            const std::string id =
                engine.publish(test::alias_added("acme", project, "clf", "production"))
                    .firings.front()
                    .id;
            all.insert(all.begin(), id);
            if (std::string(project) == "mnist")
                mnist.insert(mnist.begin(), id);
        }
        engine.publish(test::alias_added("other", "p", "clf", "production"));
    }

    const Principal member{.user = "bob", .roles = {Role::entity_member("acme")}};
    HistoryPage first = engine.history(member, {.entity = "acme", .limit = 4});
    CHECK(ids(first) == std::vector(all.begin(), all.begin() + 4));
    REQUIRE(first.next == all[3]);
    HistoryPage second =
        engine.history(member, {.entity = "acme", .before = first.next, .limit = 4});
    CHECK(ids(second) == std::vector(all.begin() + 4, all.begin() + 8));
    HistoryPage last =
        engine.history(member, {.entity = "acme", .before = second.next, .limit = 4});
    CHECK(ids(last) == std::vector(all.begin() + 8, all.end()));
    CHECK(last.next.empty());  // fewer than a page: nothing follows

    const Principal writer{.user = "carol", .roles = {Role::project_writer("acme", "mnist")}};
    CHECK(ids(engine.history(writer, {.entity = "acme", .project = "mnist"})) == mnist);
    CHECK(engine.history(member, {.entity = "acme", .status = FiringStatus::finished})
              .firings.size() == all.size());  // no action: finished once recorded
    CHECK(engine.history(member, {.entity = "acme", .status = FiringStatus::dead}).firings.empty());

    const Error denied = error_of([&] { engine.history(member, {.entity = "other"}); });
    CHECK(denied.code() == errc::permission_denied);
    CHECK(denied.reason() == "'bob' may not read the history of other");
    CHECK(error_of([&] { engine.history(member, {}); }).field() == "entity");
    CHECK(error_of([&] { engine.history(member, {.entity = "acme", .limit = 0}); }).field() ==
          "limit");
    CHECK(error_of([&] { engine.history(member, {.entity = "acme", .limit = 1001}); }).field() ==
          "limit");
    // A page of another entity's firings is not reached through a cursor.
    const std::string theirs = engine.history(admin_of("other"), {.entity = "other"}).firings[0].id;
    const Error cursor =
        error_of([&] { engine.history(member, {.entity = "acme", .before = theirs}); });
    CHECK(cursor.code() == errc::invalid_argument);
    CHECK(cursor.field() == "before");
}
