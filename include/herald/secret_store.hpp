// herald/secret_store.hpp — where secret values live, and how a send reads them.
//
// Secrets are named values of an entity (API tokens, signing keys, a Slack webhook URL) that
// integrations and payload templates refer to by name (`${GH_TOKEN}`). herald reads a value only
// when it sends a request; values never come back out through the management API
// (`Engine::secrets()`) and never appear in messages, logs, history or exceptions.
//
// A host may implement `SecretStore` over its own secret manager; herald ships the in-memory
// `MemorySecretStore` (a persistent store that encrypts at rest comes with the SQLite backend):
//
// clang-format off
//     auto secrets = std::make_shared<herald::MemorySecretStore>();
//     herald::Engine engine{{.secrets = secrets}};
//     engine.secrets().put(admin, "acme", "GH_TOKEN", token);
//
//     // at send time (the dispatcher):
//     herald::SecretResolver resolve{*secrets, "acme", clock.now(), "GH_TOKEN"};
//     std::string_view access_token = resolve.value("ACCESS_TOKEN").reveal();
// clang-format on
#pragma once

#include <herald/clock.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace herald {

/// What herald writes wherever a secret value would otherwise appear.
inline constexpr std::string_view masked_secret = "********";

/// A secret value. It cannot be streamed or formatted by accident (read it with `reveal()`),
/// and its memory is wiped when it is destroyed or moved from. Value type; thread-compatible.
class SecretValue {
  public:
    SecretValue() = default;
    explicit SecretValue(std::string_view value) : value_(value) {}
    SecretValue(const SecretValue& other) = default;
    SecretValue(SecretValue&& other) noexcept;
    SecretValue& operator=(const SecretValue& other);
    SecretValue& operator=(SecretValue&& other) noexcept;
    ~SecretValue();

    std::string_view reveal() const noexcept { return value_; }
    bool empty() const noexcept { return value_.empty(); }

  private:
    void wipe() noexcept;
    std::string value_;
};

/// A secret as a store keeps it. After a rotation the previous value stays valid until
/// `previous_expires`, so signatures can carry both keys while receivers switch over.
struct StoredSecret {
    SecretValue value;
    std::optional<SecretValue> previous;
    Timestamp previous_expires{};
    Timestamp updated_at{};
};

/// Secret values by (entity, name). Implementations must be thread-safe. herald checks names
/// and authorization before it calls the store; the store only keeps values.
class SecretStore {
  public:
    virtual ~SecretStore() = default;
    /// Creates or replaces the secret `name` of `entity`.
    virtual void put(std::string_view entity, std::string_view name,
                     const StoredSecret& secret) = 0;
    virtual std::optional<StoredSecret> get(std::string_view entity,
                                            std::string_view name) const = 0;
    virtual bool contains(std::string_view entity, std::string_view name) const = 0;
    /// False when there was no such secret.
    virtual bool erase(std::string_view entity, std::string_view name) = 0;
    /// The names of `entity`'s secrets, sorted.
    virtual std::vector<std::string> names(std::string_view entity) const = 0;
};

/// Secrets in memory: nothing survives the process. Thread-safe.
class MemorySecretStore final : public SecretStore {
  public:
    MemorySecretStore();
    ~MemorySecretStore() override;

    void put(std::string_view entity, std::string_view name, const StoredSecret& secret) override;
    std::optional<StoredSecret> get(std::string_view entity, std::string_view name) const override;
    bool contains(std::string_view entity, std::string_view name) const override;
    bool erase(std::string_view entity, std::string_view name) override;
    std::vector<std::string> names(std::string_view entity) const override;

  private:
    struct State;
    std::unique_ptr<State> state_;
};

/// The secrets of one entity as one send reads them: each name is read from the store at most
/// once and kept until the resolver is destroyed, so the sender can also `redact` echoes of the
/// values it used (e.g. in a response body). `ACCESS_TOKEN` names the integration's
/// access-token secret. Short-lived; not thread-safe; the store must outlive it.
class SecretResolver {
  public:
    /// `access_token_secret` is the name of the integration's access-token secret, empty when
    /// it has none; `now` decides whether a rotated-out value is still valid.
    SecretResolver(const SecretStore& store, std::string entity, Timestamp now,
                   std::string access_token_secret = {});
    ~SecretResolver();
    SecretResolver(const SecretResolver&) = delete;
    SecretResolver& operator=(const SecretResolver&) = delete;

    /// The current value of `name`. Throws herald::Error (not_found, field "secret") naming the
    /// secret — never a value — when the entity has no such secret.
    const SecretValue& value(std::string_view name);
    /// The current value and, while a rotation's grace period lasts, the previous one: the keys
    /// to sign with. Throws like `value`.
    std::vector<std::string_view> signing_keys(std::string_view name);
    /// `text` with every value read through this resolver replaced by `masked_secret`.
    std::string redact(std::string_view text) const;

  private:
    struct Entry;
    const Entry& entry(std::string_view name);

    const SecretStore& store_;
    std::string entity_;
    Timestamp now_;
    std::string access_token_secret_;
    std::vector<std::unique_ptr<Entry>> read_;
};

}  // namespace herald
