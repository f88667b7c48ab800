// A stored secret as a persistent backend keeps it at rest: its values sealed together under
// one key (secrets/cipher.hpp), bound to the secret's entity and name, with the key's id beside
// them. The backends keep these fields in columns; the plaintext never leaves this unit.
#pragma once

#include <herald/key_provider.hpp>
#include <herald/secret_store.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace herald::detail::cipher {

/// The sealed columns of a secret's row.
struct SealedSecret {
    std::string key_id;
    std::vector<unsigned char> nonce;
    std::vector<unsigned char> ciphertext;
};

/// The value and previous value of `secret` sealed under `key` for (entity, name).
SealedSecret seal_secret(const EncryptionKey& key, std::string_view entity, std::string_view name,
                         const StoredSecret& secret);

/// The secret a row holds. Throws herald::Error (storage_failure, field "secret") naming the
/// secret, never a value, when `keys` lacks the row's key or the row does not authenticate.
StoredSecret open_secret(const KeyProvider& keys, std::string_view entity, std::string_view name,
                         const SealedSecret& row, Timestamp previous_expires, Timestamp updated_at);

}  // namespace herald::detail::cipher
