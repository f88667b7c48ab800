// herald/key_provider.hpp — where the key that encrypts secrets at rest comes from.
//
// The persistent backends' secret stores (herald/sqlite/secret_store.hpp,
// herald/postgres/database.hpp) encrypt every value with
// AES-256-GCM under a 256-bit key that the host provides through a `KeyProvider`. The default
// reads it from the environment or a file; a missing or malformed key is an error at start,
// never a silently generated key:
//
// clang-format off
//     // HERALD_SECRET_KEY=<64 hex digits or base64 of 32 bytes>, or
//     // HERALD_SECRET_KEY_FILE=/etc/herald/secret.key (current key first, retired keys after)
//     std::shared_ptr<herald::KeyProvider> keys = herald::key_from_environment();
//     auto secrets = store->secrets(keys);
// clang-format on
//
// To rotate, make the new key current and keep the old one as retired until
// `EncryptedSecretStore::rotate_key` has re-encrypted every value.
#pragma once

#include <array>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace herald {

/// A 256-bit AES key and its id: the first 8 bytes of the key's SHA-256, in hex, which is
/// stored beside every value so the store knows which key reads it (the id reveals nothing
/// usable about the key). The bytes are wiped when the key is destroyed. Value type;
/// thread-compatible.
class EncryptionKey {
  public:
    static constexpr std::size_t size = 32;

    explicit EncryptionKey(std::span<const unsigned char, size> bytes);
    /// From 64 hex digits or the base64 of 32 bytes (surrounding whitespace ignored). Throws
    /// herald::Error (invalid_argument, field `source`) without echoing the text.
    static EncryptionKey parse(std::string_view text, std::string_view source);

    EncryptionKey(const EncryptionKey&) = default;
    EncryptionKey& operator=(const EncryptionKey&) = default;
    ~EncryptionKey();

    const std::string& id() const noexcept { return id_; }
    std::span<const unsigned char, size> bytes() const noexcept { return bytes_; }

  private:
    std::array<unsigned char, size> bytes_;
    std::string id_;
};

/// Supplies keys to the encrypted secret store: the current key, which encrypts every write,
/// and retired keys, which only read values written before a rotation. Implementations must be
/// thread-safe; a host may back this with its KMS.
class KeyProvider {
  public:
    virtual ~KeyProvider() = default;
    virtual const EncryptionKey& current() const = 0;
    /// The key with id `id`, current or retired; nullptr when the provider has none.
    virtual const EncryptionKey* find(std::string_view id) const = 0;
};

/// A fixed current key and retired keys. Thread-safe (immutable).
class StaticKeyProvider final : public KeyProvider {
  public:
    explicit StaticKeyProvider(EncryptionKey current, std::vector<EncryptionKey> retired = {});
    const EncryptionKey& current() const override;
    const EncryptionKey* find(std::string_view id) const override;

  private:
    std::vector<EncryptionKey> keys_;  ///< the current key first
};

/// Keys from a file: the current key on the first non-empty line, retired keys on the lines
/// after it, each as `EncryptionKey::parse` reads. Throws herald::Error (invalid_argument,
/// field "key") when the file cannot be read, holds no key or a malformed one.
std::shared_ptr<KeyProvider> key_from_file(const std::filesystem::path& path);

/// The default: the key in environment variable HERALD_SECRET_KEY, or else the key file named
/// by HERALD_SECRET_KEY_FILE (see `key_from_file`). Throws herald::Error (invalid_argument,
/// field "key") when neither is set or the key is malformed.
std::shared_ptr<KeyProvider> key_from_environment();

}  // namespace herald
