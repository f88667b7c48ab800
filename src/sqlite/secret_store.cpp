#include "sqlite/cipher.hpp"
#include "sqlite/codec.hpp"
#include "sqlite/core.hpp"

#include <herald/error.hpp>
#include <herald/sqlite/database.hpp>
#include <herald/sqlite/secret_store.hpp>

#include <openssl/crypto.h>

#include <cstdint>
#include <string>

namespace herald::sqlite {
namespace {

using detail::sqlite::Connection;
using detail::sqlite::Query;
using detail::sqlite::Statement;

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

/// A secret row's sealed columns.
struct SealedRow {
    std::string key_id;
    std::vector<unsigned char> nonce;
    std::vector<unsigned char> ciphertext;
};

SealedRow sealed_row(const Statement& row, int first) {
    const auto nonce = row.blob(first + 1);
    const auto ciphertext = row.blob(first + 2);
    return {std::string(row.text(first)),
            {nonce.begin(), nonce.end()},
            {ciphertext.begin(), ciphertext.end()}};
}

/// The plaintext of a row; throws (naming the secret, never the value) when the key is
/// missing or the row does not authenticate.
Plaintext open_row(const KeyProvider& keys, std::string_view entity, std::string_view name,
                   const SealedRow& row) {
    const EncryptionKey* key = keys.find(row.key_id);
    if (!key)
        unreadable(entity, name,
                   "is encrypted under key " + row.key_id + ", which the key provider lacks");
    auto text =
        detail::sqlite::unseal(*key, row.nonce, row.ciphertext, associated_data(entity, name));
    if (!text)
        unreadable(entity, name,
                   "failed authentication: it was altered in the file, or the key is wrong");
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

void write_row(Connection& c, std::string_view entity, std::string_view name,
               const EncryptionKey& key, const Plaintext& plaintext, Timestamp previous_expires,
               Timestamp updated_at) {
    const detail::sqlite::Sealed sealed =
        detail::sqlite::seal(key, plaintext.bytes, associated_data(entity, name));
    Query(c,
          "INSERT INTO secrets (entity, name, key_id, nonce, ciphertext, previous_expires, "
          "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO UPDATE SET "
          "key_id = excluded.key_id, nonce = excluded.nonce, "
          "ciphertext = excluded.ciphertext, previous_expires = excluded.previous_expires, "
          "updated_at = excluded.updated_at")
        ->bind(1, entity)
        .bind(2, name)
        .bind(3, key.id())
        .bind(4, sealed.nonce)
        .bind(5, sealed.ciphertext)
        .bind(6, detail::sqlite::nanos(previous_expires))
        .bind(7, detail::sqlite::nanos(updated_at))
        .run();
}

}  // namespace

EncryptedSecretStore::EncryptedSecretStore(std::shared_ptr<Backend> backend,
                                           std::shared_ptr<const KeyProvider> keys)
    : backend_(std::move(backend)), keys_(std::move(keys)) {}

EncryptedSecretStore::~EncryptedSecretStore() = default;

void EncryptedSecretStore::put(std::string_view entity, std::string_view name,
                               const StoredSecret& secret) {
    Plaintext plaintext;
    encode_values(secret, plaintext);
    const EncryptionKey& key = keys_->current();
    backend_->core->write([&](Connection& c) {
        write_row(c, entity, name, key, plaintext, secret.previous_expires, secret.updated_at);
    });
}

std::optional<StoredSecret> EncryptedSecretStore::get(std::string_view entity,
                                                      std::string_view name) const {
    return backend_->core->read([&](Connection& c) -> std::optional<StoredSecret> {
        Query q(c,
                "SELECT key_id, nonce, ciphertext, previous_expires, updated_at FROM secrets "
                "WHERE entity = ?1 AND name = ?2");
        if (!q->bind(1, entity).bind(2, name).step())
            return std::nullopt;
        const Plaintext plaintext = open_row(*keys_, entity, name, sealed_row(*q, 0));
        return decode_values(entity, name, plaintext, detail::sqlite::timestamp(q->int64(3)),
                             detail::sqlite::timestamp(q->int64(4)));
    });
}

bool EncryptedSecretStore::contains(std::string_view entity, std::string_view name) const {
    return backend_->core->read([&](Connection& c) {
        Query q(c, "SELECT 1 FROM secrets WHERE entity = ?1 AND name = ?2");
        return q->bind(1, entity).bind(2, name).step();
    });
}

bool EncryptedSecretStore::erase(std::string_view entity, std::string_view name) {
    bool erased = false;
    backend_->core->write([&](Connection& c) {
        Query(c, "DELETE FROM secrets WHERE entity = ?1 AND name = ?2")
            ->bind(1, entity)
            .bind(2, name)
            .run();
        erased = c.changes() > 0;
    });
    return erased;
}

std::vector<std::string> EncryptedSecretStore::names(std::string_view entity) const {
    return backend_->core->read([&](Connection& c) {
        std::vector<std::string> out;
        Query q(c, "SELECT name FROM secrets WHERE entity = ?1 ORDER BY name");
        q->bind(1, entity);
        while (q->step())
            out.emplace_back(q->text(0));
        return out;
    });
}

std::size_t EncryptedSecretStore::rotate_key() {
    const EncryptionKey& current = keys_->current();
    std::size_t rotated = 0;
    backend_->core->write([&](Connection& c) {
        struct Row {
            std::string entity, name;
            SealedRow sealed;
            std::int64_t previous_expires, updated_at;
        };
        std::vector<Row> rows;
        {
            Query q(c,
                    "SELECT entity, name, key_id, nonce, ciphertext, previous_expires, "
                    "updated_at FROM secrets WHERE key_id <> ?1");
            q->bind(1, current.id());
            while (q->step())
                rows.push_back({std::string(q->text(0)), std::string(q->text(1)), sealed_row(*q, 2),
                                q->int64(5), q->int64(6)});
        }
        for (const Row& row : rows) {
            const Plaintext plaintext = open_row(*keys_, row.entity, row.name, row.sealed);
            write_row(c, row.entity, row.name, current, plaintext,
                      detail::sqlite::timestamp(row.previous_expires),
                      detail::sqlite::timestamp(row.updated_at));
        }
        rotated = rows.size();
    });
    return rotated;
}

}  // namespace herald::sqlite

namespace herald::detail::sqlite {

std::shared_ptr<herald::sqlite::EncryptedSecretStore> make_secret_store(
    std::shared_ptr<Core> core, std::shared_ptr<const herald::sqlite::KeyProvider> keys) {
    if (!keys)
        throw Error(errc::invalid_argument, "key", "no key provider");
    std::string missing = core->read([&](Connection& c) {
        std::string ids;
        Query q(c, "SELECT DISTINCT key_id FROM secrets");
        while (q->step())
            if (!keys->find(q->text(0)))
                ids += (ids.empty() ? "" : ", ") + std::string(q->text(0));
        return ids;
    });
    if (!missing.empty())
        throw Error(errc::storage_failure, "key",
                    core->path() + ": secrets are encrypted under key " + missing +
                        ", which the key provider does not have (wrong key?)");
    using Store = herald::sqlite::EncryptedSecretStore;
    return std::make_shared<Store>(std::make_shared<Store::Backend>(Store::Backend{core}),
                                   std::move(keys));
}

}  // namespace herald::detail::sqlite
