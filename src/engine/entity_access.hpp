// Authorizing the management of what belongs to a whole entity: its secrets and integrations.
#pragma once

#include "engine/engine_state.hpp"

#include <herald/error.hpp>

#include <string>
#include <string_view>

namespace herald::detail {

/// Throws herald::Error (permission_denied, field "entity") unless `who` may do `what` in
/// `entity`; `things` names what is managed in the message ("secrets").
inline void authorize_entity(const EngineState& state, const Principal& who, Permission what,
                             std::string_view entity, std::string_view things) {
    if (!state.authorizer->allows(who, what, Scope::for_entity(std::string(entity))))
        throw Error(errc::permission_denied, "entity",
                    "'" + who.user + "' may not manage the " + std::string(things) + " of '" +
                        std::string(entity) + "'");
}

}  // namespace herald::detail
