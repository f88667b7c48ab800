// Exits 0 when herald::sqlite, consumed as a package component, keeps a firing in a database file.
#include <herald/herald.hpp>
#include <herald/sqlite/database.hpp>

#include <filesystem>

int main() {
    const auto dir = std::filesystem::temp_directory_path() / "herald-consumer-sqlite";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    std::size_t firings = 0;
    {
        herald::Engine engine{{.storage = herald::sqlite::open(dir / "herald.db")}};
        engine.automations().create(
            {.user = "ada", .roles = {herald::Role::entity_admin("acme")}},
            herald::Automation{.name = "on-production",
                               .scope = herald::Scope::for_project("acme", "mnist"),
                               .trigger = herald::trigger::AddArtifactAlias{
                                   .alias = herald::Pattern{"production"}}});
        engine.publish(herald::Event{
            .entity = "acme",
            .project = "mnist",
            .body = herald::AliasAdded{.version = {.collection = "clf"}, .alias = "production"}});
    }
    firings = herald::sqlite::open(dir / "herald.db")->history().query({}).size();
    std::filesystem::remove_all(dir);
    return firings == 1 ? 0 : 1;
}
