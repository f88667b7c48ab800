// AES-256-GCM as the encrypted secret store uses it: a fresh random 96-bit nonce per seal, the
// 128-bit tag appended to the ciphertext, and associated data that binds a value to its place.
#pragma once

#include <herald/key_provider.hpp>

#include <array>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace herald::detail::cipher {

inline constexpr std::size_t nonce_size = 12;
inline constexpr std::size_t tag_size = 16;

struct Sealed {
    std::array<unsigned char, nonce_size> nonce{};
    std::vector<unsigned char> ciphertext;  ///< encrypted bytes followed by the tag
};

/// Encrypts `plaintext` under `key` with a fresh random nonce, authenticating
/// `associated_data` too. Throws herald::Error (storage_failure) when OpenSSL fails.
Sealed seal(const herald::EncryptionKey& key, std::string_view plaintext,
            std::string_view associated_data);

/// The plaintext of a sealed value; nullopt when it does not authenticate (wrong key, altered
/// ciphertext, nonce or associated data). The caller wipes the result.
std::optional<std::string> unseal(const herald::EncryptionKey& key,
                                  std::span<const unsigned char> nonce,
                                  std::span<const unsigned char> ciphertext,
                                  std::string_view associated_data);

}  // namespace herald::detail::cipher
