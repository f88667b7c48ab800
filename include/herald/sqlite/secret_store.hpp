// herald/sqlite/secret_store.hpp — secrets kept in the database, encrypted at rest.
//
// Every value is sealed with AES-256-GCM under the key provider's current key, with a fresh
// random 96-bit nonce per write and the secret's entity and name as associated data (a value
// moved to another row does not decrypt). The key's id is stored beside each value; plaintext
// never reaches the file. Obtained from `Database::secrets`:
//
// clang-format off
//     auto secrets = store->secrets(herald::sqlite::key_from_file("/etc/herald/secret.key"));
//     // after putting a new key first in the file (the old one on the next line):
//     secrets->rotate_key();   // every value re-encrypted under the new key, in one transaction
// clang-format on
#pragma once

#include <herald/secret_store.hpp>
#include <herald/sqlite/key_provider.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace herald::sqlite {

/// The persistent `SecretStore`. Thread-safe. A value that fails authentication (altered in
/// the file, or a key with the right id but the wrong bytes) or whose key the provider lacks
/// throws herald::Error (storage_failure, field "secret") naming the secret, never its value.
class EncryptedSecretStore final : public SecretStore {
  public:
    struct Backend;
    EncryptedSecretStore(std::shared_ptr<Backend> backend, std::shared_ptr<const KeyProvider> keys);
    ~EncryptedSecretStore() override;

    void put(std::string_view entity, std::string_view name, const StoredSecret& secret) override;
    std::optional<StoredSecret> get(std::string_view entity, std::string_view name) const override;
    bool contains(std::string_view entity, std::string_view name) const override;
    bool erase(std::string_view entity, std::string_view name) override;
    std::vector<std::string> names(std::string_view entity) const override;

    /// Re-encrypts every value not under the current key with it, in one transaction (all or
    /// none; each row names its key, so values are always readable). Returns how many values
    /// were re-encrypted.
    std::size_t rotate_key();

  private:
    std::shared_ptr<Backend> backend_;
    std::shared_ptr<const KeyProvider> keys_;
};

}  // namespace herald::sqlite
