// Automations and integrations: one JSON document per row (the automation JSON format, and
// the shared storage codec's integration document).
#include "codec/storage_codec.hpp"
#include "postgres/stores.hpp"
#include "storage/streak_changes.hpp"

#include <herald/automation_json.hpp>
#include <herald/error.hpp>

namespace herald::detail::postgres {

void AutomationTable::insert(const Automation& automation) {
    const std::string body = to_json(automation);
    const Result r = pool_.run([&](Connection& c) {
        return c.exec(
            "INSERT INTO automations (id, body) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
            Params().text(automation.id).text(body));
    });
    if (r.changed() == 0)
        throw Error(errc::already_exists, "id", "automation id '" + automation.id + "' is taken");
}

void AutomationTable::update(const Automation& automation) {
    const std::string body = to_json(automation);
    const Result r = pool_.run([&](Connection& c) {
        return c.exec("UPDATE automations SET body = $2 WHERE id = $1",
                      Params().text(automation.id).text(body));
    });
    if (r.changed() == 0)
        throw Error(errc::not_found, "id", "no automation with id '" + automation.id + "'");
}

bool AutomationTable::erase(std::string_view id) {
    return pool_.run([&](Connection& c) {
        return c.exec("DELETE FROM automations WHERE id = $1", Params().text(id)).changed() > 0;
    });
}

std::optional<Automation> AutomationTable::find(std::string_view id) const {
    const Result r = pool_.run([&](Connection& c) {
        return c.exec("SELECT body FROM automations WHERE id = $1", Params().text(id));
    });
    if (r.rows() == 0)
        return std::nullopt;
    return decoded("automations", [&] { return automation_from_json(r.text(0, 0)); });
}

std::vector<Automation> AutomationTable::all() const {
    const Result r = pool_.run([&](Connection& c) {
        return c.exec("SELECT body FROM automations ORDER BY id COLLATE \"C\"");
    });
    std::vector<Automation> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i)
        out.push_back(decoded("automations", [&] { return automation_from_json(r.text(i, 0)); }));
    return out;
}

std::optional<std::int64_t> AutomationTable::revision() const {
    const Result r = pool_.run(
        [](Connection& c) { return c.exec("SELECT revision FROM automations_revision"); });
    return r.int64(0, 0);
}

void IntegrationTable::insert(const Integration& integration) {
    const std::string body = codec::integration_to_json(integration);
    const Result r = pool_.run([&](Connection& c) {
        return c.exec(
            "INSERT INTO integrations (entity, name, body) VALUES ($1, $2, $3) "
            "ON CONFLICT (entity, name) DO NOTHING",
            Params().text(integration.entity()).text(integration.name()).text(body));
    });
    if (r.changed() == 0)
        throw Error(errc::already_exists, "integration.name",
                    "entity '" + integration.entity() + "' already has an integration named '" +
                        integration.name() + "'");
}

void IntegrationTable::update(const Integration& integration) {
    const std::string body = codec::integration_to_json(integration);
    const Result r = pool_.run([&](Connection& c) {
        return c.exec("UPDATE integrations SET body = $3 WHERE entity = $1 AND name = $2",
                      Params().text(integration.entity()).text(integration.name()).text(body));
    });
    if (r.changed() == 0)
        throw Error(errc::not_found, "integration.name",
                    "entity '" + integration.entity() + "' has no integration named '" +
                        integration.name() + "'");
}

bool IntegrationTable::erase(std::string_view entity, std::string_view name) {
    return pool_.transact([&](Connection& c) {
        c.exec("DELETE FROM integration_streaks WHERE entity = $1 AND name = $2",
               Params().text(entity).text(name));
        return c.exec("DELETE FROM integrations WHERE entity = $1 AND name = $2",
                      Params().text(entity).text(name))
                   .changed() > 0;
    });
}

std::optional<Integration> IntegrationTable::find(std::string_view entity,
                                                  std::string_view name) const {
    const Result r = pool_.run([&](Connection& c) {
        return c.exec("SELECT body FROM integrations WHERE entity = $1 AND name = $2",
                      Params().text(entity).text(name));
    });
    if (r.rows() == 0)
        return std::nullopt;
    return decoded("integrations", [&] { return codec::integration_from_json(r.text(0, 0)); });
}

std::vector<Integration> IntegrationTable::list(std::string_view entity) const {
    const Result r = pool_.run([&](Connection& c) {
        return c.exec("SELECT body FROM integrations WHERE entity = $1 ORDER BY name COLLATE \"C\"",
                      Params().text(entity));
    });
    std::vector<Integration> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i)
        out.push_back(
            decoded("integrations", [&] { return codec::integration_from_json(r.text(i, 0)); }));
    return out;
}

std::vector<FailingStreak> IntegrationTable::update_streaks(std::span<const StreakUpdate> updates) {
    return pool_.transact([&](Connection& c) { return update_streaks_in(c, updates); });
}

std::optional<Timestamp> IntegrationTable::failing_since(std::string_view entity,
                                                         std::string_view name) const {
    const Result r = pool_.run([&](Connection& c) {
        return c.exec("SELECT since FROM integration_streaks WHERE entity = $1 AND name = $2",
                      Params().text(entity).text(name));
    });
    if (r.rows() == 0)
        return std::nullopt;
    return codec::timestamp(r.int64(0, 0));
}

std::vector<FailingStreak> IntegrationTable::update_streaks_in(
    Connection& c, std::span<const StreakUpdate> updates) {
    std::vector<FailingStreak> failing;
    for (const StreakChange& change : streak_changes(updates)) {
        const Params key = Params().text(change.entity).text(change.integration);
        if (change.ends)
            c.exec("DELETE FROM integration_streaks WHERE entity = $1 AND name = $2", key);
        if (!change.failed_at)
            continue;
        // A writer that inserted the row first makes this one wait for its commit; the read
        // after it sees that row.
        c.exec(
            "INSERT INTO integration_streaks (entity, name, since) VALUES ($1, $2, $3) "
            "ON CONFLICT (entity, name) DO NOTHING",
            Params()
                .text(change.entity)
                .text(change.integration)
                .int64(codec::nanos(*change.failed_at)));
        const Result r =
            c.exec("SELECT since FROM integration_streaks WHERE entity = $1 AND name = $2", key);
        failing.push_back({.entity = std::string(change.entity),
                           .integration = std::string(change.integration),
                           .since = codec::timestamp(r.int64(0, 0))});
    }
    return failing;
}

}  // namespace herald::detail::postgres
