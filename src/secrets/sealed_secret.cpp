#include "secrets/sealed_secret.hpp"
#include "secrets/cipher.hpp"

#include <herald/error.hpp>

#include <openssl/crypto.h>

#include <cstdint>
#include <optional>
#include <string>

namespace herald::detail::cipher {
namespace {

/// Wipes a plaintext when it goes out of scope.
struct Plaintext {
    std::string bytes;
    ~Plaintext() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
};

void put_length_prefixed(std::string& out, std::string_view text) {
    const auto size = static_cast<std::uint32_t>(text.size());
    for (int shift = 0; shift < 32; shift += 8)
        out += static_cast<char>((size >> shift) & 0xff);
    out.append(text);
}

std::optional<std::string_view> take_length_prefixed(std::string_view& in) {
    if (in.size() < 4)
        return std::nullopt;
    std::uint32_t size = 0;
    for (int i = 0; i < 4; ++i)
        size |= static_cast<std::uint32_t>(static_cast<unsigned char>(in[i])) << (8 * i);
    in.remove_prefix(4);
    if (in.size() < size)
        return std::nullopt;
    std::string_view text = in.substr(0, size);
    in.remove_prefix(size);
    return text;
}

/// What is sealed: the value, then the previous value when there is one.
void encode_values(const StoredSecret& secret, Plaintext& out) {
    put_length_prefixed(out.bytes, secret.value.reveal());
    if (secret.previous)
        put_length_prefixed(out.bytes, secret.previous->reveal());
}

/// Binds a sealed value to its row: moving the ciphertext to another secret fails to open.
std::string associated_data(std::string_view entity, std::string_view name) {
    std::string aad = "herald secret v1";
    aad += '\0';
    aad += entity;
    aad += '\0';
    aad += name;
    return aad;
}

std::string describe(std::string_view entity, std::string_view name) {
    return "secret '" + std::string(name) + "' of entity '" + std::string(entity) + "'";
}

[[noreturn]] void unreadable(std::string_view entity, std::string_view name,
                             const std::string& why) {
    throw Error(errc::storage_failure, "secret", describe(entity, name) + " " + why);
}

/// The plaintext of a row; throws (naming the secret, never the value) when the key is
/// missing or the row does not authenticate.
Plaintext open_row(const KeyProvider& keys, std::string_view entity, std::string_view name,
                   const SealedSecret& row) {
    const EncryptionKey* key = keys.find(row.key_id);
    if (!key)
        unreadable(entity, name,
                   "is encrypted under key " + row.key_id + ", which the key provider lacks");
    auto text = unseal(*key, row.nonce, row.ciphertext, associated_data(entity, name));
    if (!text)
        unreadable(entity, name,
                   "failed authentication: it was altered in storage, or the key is wrong");
    return Plaintext{std::move(*text)};
}

StoredSecret decode_values(std::string_view entity, std::string_view name, const Plaintext& p,
                           Timestamp previous_expires, Timestamp updated_at) {
    std::string_view in = p.bytes;
    auto value = take_length_prefixed(in);
    if (!value)
        unreadable(entity, name, "is malformed");
    StoredSecret secret{.value = SecretValue(*value),
                        .previous = std::nullopt,
                        .previous_expires = previous_expires,
                        .updated_at = updated_at};
    if (!in.empty()) {
        auto previous = take_length_prefixed(in);
        if (!previous || !in.empty())
            unreadable(entity, name, "is malformed");
        secret.previous = SecretValue(*previous);
    }
    return secret;
}

}  // namespace

SealedSecret seal_secret(const EncryptionKey& key, std::string_view entity, std::string_view name,
                         const StoredSecret& secret) {
    Plaintext plaintext;
    encode_values(secret, plaintext);
    Sealed sealed = seal(key, plaintext.bytes, associated_data(entity, name));
    return {.key_id = key.id(),
            .nonce = {sealed.nonce.begin(), sealed.nonce.end()},
            .ciphertext = std::move(sealed.ciphertext)};
}

StoredSecret open_secret(const KeyProvider& keys, std::string_view entity, std::string_view name,
                         const SealedSecret& row, Timestamp previous_expires,
                         Timestamp updated_at) {
    const Plaintext plaintext = open_row(keys, entity, name, row);
    return decode_values(entity, name, plaintext, previous_expires, updated_at);
}

}  // namespace herald::detail::cipher
