// herald/secret_manager.hpp — put, rotate, remove and list an entity's secrets.
//
// Reached through `Engine::secrets()`. Only entity admins (Permission::manage_secrets on the
// entity) may call it. A value goes in and can never come out: there is no getter, and no
// message, log, history record or exception ever holds one.
//
// clang-format off
//     engine.secrets().put(admin, "acme", "GH_TOKEN", token);
//     engine.secrets().rotate(admin, "acme", "SIGNING_KEY", new_key, std::chrono::hours{24});
//     engine.secrets().remove(admin, "acme", "OLD_TOKEN");   // refused while referenced
// clang-format on
//
// Failures throw herald::Error: permission_denied, invalid_argument (field "name" or "value"),
// already_exists, not_found, in_use (the reason lists the integrations and automations that
// refer to the secret). Thread-safe.
#pragma once

#include <herald/authorizer.hpp>

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace herald {

namespace detail {
struct EngineState;
}

/// Longest secret name and value herald accepts.
inline constexpr std::size_t max_secret_name_length = 128;
inline constexpr std::size_t max_secret_value_length = 64 * 1024;

class SecretManager {
  public:
    /// Creates secret `name` (letters, digits, `_`; not ACCESS_TOKEN or a template variable's
    /// name). The value must be non-empty and free of NUL, CR and LF (it may become a header).
    void put(const Principal& who, std::string_view entity, std::string_view name,
             std::string_view value);
    /// Replaces the value of an existing secret. The previous value stays valid for signing
    /// for `keep_previous` (0: it is gone at once).
    void rotate(const Principal& who, std::string_view entity, std::string_view name,
                std::string_view value, std::chrono::seconds keep_previous = {});
    /// Deletes a secret at once. Refused (in_use) while an integration or an automation's
    /// template refers to it, unless `force`; then those fail when they next send.
    void remove(const Principal& who, std::string_view entity, std::string_view name,
                bool force = false);
    /// The entity's secret names, sorted.
    std::vector<std::string> list(const Principal& who, std::string_view entity) const;

  private:
    friend class Engine;
    explicit SecretManager(detail::EngineState& state) noexcept : state_(state) {}
    detail::EngineState& state_;
};

}  // namespace herald
