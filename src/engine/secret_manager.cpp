#include "engine/action_check.hpp"
#include "engine/engine_state.hpp"
#include "engine/entity_access.hpp"
#include "template/variables.hpp"

#include <herald/error.hpp>
#include <herald/secret_manager.hpp>

#include <algorithm>
#include <mutex>

namespace herald {
namespace {

void authorize(const detail::EngineState& state, const Principal& who, std::string_view entity) {
    detail::authorize_entity(state, who, Permission::manage_secrets, entity, "secrets");
}

void check_name(std::string_view name) {
    if (!detail::is_secret_name(name) || name.size() > max_secret_name_length)
        throw Error(errc::invalid_argument, "name",
                    "a secret name is 1 to 128 letters, digits and '_'");
    if (detail::is_reserved_name(name))
        throw Error(errc::invalid_argument, "name",
                    "'" + std::string(name) + "' is a template variable's name");
}

/// The reasons never quote the value.
void check_value(std::string_view value) {
    if (value.empty())
        throw Error(errc::invalid_argument, "value", "must not be empty");
    if (value.size() > max_secret_value_length)
        throw Error(errc::invalid_argument, "value", "must be at most 65536 bytes");
    if (value.find_first_of(std::string_view("\0\r\n", 3)) != std::string_view::npos)
        throw Error(errc::invalid_argument, "value", "must not contain NUL, CR or LF");
}

[[noreturn]] void throw_not_found(std::string_view entity, std::string_view name) {
    throw Error(errc::not_found, "name",
                "entity '" + std::string(entity) + "' has no secret '" + std::string(name) + "'");
}

/// The integrations and automations that name the secret, for in_use errors; empty if none.
std::string referrers(const detail::EngineState& state, std::string_view entity,
                      std::string_view name) {
    std::string out;
    for (const Integration& integration : state.storage->integrations().list(entity)) {
        const auto names = integration.secret_names();
        if (std::find(names.begin(), names.end(), name) == names.end())
            continue;
        if (!out.empty())
            out += ", ";
        out += "integration '" + integration.name() + "'";
    }
    const std::string automations =
        detail::describe(detail::automations_using_secret(state, entity, name));
    if (!out.empty() && !automations.empty())
        out += ", ";
    return out + automations;
}

}  // namespace

void SecretManager::put(const Principal& who, std::string_view entity, std::string_view name,
                        std::string_view value) {
    authorize(state_, who, entity);
    check_name(name);
    check_value(value);
    std::unique_lock lock(state_.mutex);
    if (state_.secrets->contains(entity, name))
        throw Error(errc::already_exists, "name",
                    "entity '" + std::string(entity) + "' already has a secret '" +
                        std::string(name) + "'; rotate it to change its value");
    state_.secrets->put(entity, name,
                        {.value = SecretValue(value), .updated_at = state_.clock->now()});
}

void SecretManager::rotate(const Principal& who, std::string_view entity, std::string_view name,
                           std::string_view value, std::chrono::seconds keep_previous) {
    authorize(state_, who, entity);
    check_value(value);
    if (keep_previous.count() < 0)
        throw Error(errc::invalid_argument, "keep_previous", "must not be negative");
    std::unique_lock lock(state_.mutex);
    std::optional<StoredSecret> old = state_.secrets->get(entity, name);
    if (!old)
        throw_not_found(entity, name);
    const Timestamp now = state_.clock->now();
    StoredSecret rotated{.value = SecretValue(value), .updated_at = now};
    if (keep_previous.count() > 0) {
        rotated.previous = std::move(old->value);
        rotated.previous_expires = now + keep_previous;
    }
    state_.secrets->put(entity, name, rotated);
}

void SecretManager::remove(const Principal& who, std::string_view entity, std::string_view name,
                           bool force) {
    authorize(state_, who, entity);
    std::unique_lock lock(state_.mutex);
    if (!state_.secrets->contains(entity, name))
        throw_not_found(entity, name);
    if (!force)
        if (const std::string users = referrers(state_, entity, name); !users.empty())
            throw Error(errc::in_use, "name",
                        "secret '" + std::string(name) + "' is used by " + users +
                            "; change those first or remove with force");
    state_.secrets->erase(entity, name);
}

std::vector<std::string> SecretManager::list(const Principal& who, std::string_view entity) const {
    authorize(state_, who, entity);
    return state_.secrets->names(entity);
}

}  // namespace herald
