// Secrets at rest in the `secrets` table: sealed by the shared cipher before they leave the
// process (secrets/sealed_secret.hpp), so the server only ever holds ciphertext.
#include "codec/storage_codec.hpp"
#include "postgres/stores.hpp"
#include "secrets/sealed_secret.hpp"

#include <herald/error.hpp>
#include <herald/postgres/database.hpp>

namespace herald::postgres {
namespace {

using detail::cipher::SealedSecret;
using detail::codec::nanos;
using detail::codec::timestamp;
using detail::postgres::Connection;
using detail::postgres::Params;
using detail::postgres::Result;

void write_row(Connection& c, std::string_view entity, std::string_view name,
               const SealedSecret& sealed, Timestamp previous_expires, Timestamp updated_at) {
    c.exec(
        "INSERT INTO secrets (entity, name, key_id, nonce, ciphertext, previous_expires,"
        " updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (entity, name) DO UPDATE"
        " SET key_id = excluded.key_id, nonce = excluded.nonce, ciphertext = excluded.ciphertext,"
        " previous_expires = excluded.previous_expires, updated_at = excluded.updated_at",
        Params()
            .text(entity)
            .text(name)
            .text(sealed.key_id)
            .bytes(sealed.nonce)
            .bytes(sealed.ciphertext)
            .int64(nanos(previous_expires))
            .int64(nanos(updated_at)));
}

/// The sealed columns `first`, ... of a row (key_id, nonce, ciphertext).
SealedSecret sealed_row(const Result& r, int row, int first) {
    return {.key_id = std::string(r.text(row, first)),
            .nonce = r.bytes(row, first + 1),
            .ciphertext = r.bytes(row, first + 2)};
}

}  // namespace

EncryptedSecretStore::EncryptedSecretStore(std::shared_ptr<Database::State> state,
                                           std::shared_ptr<const KeyProvider> keys)
    : state_(std::move(state)), keys_(std::move(keys)) {}

EncryptedSecretStore::~EncryptedSecretStore() = default;

void EncryptedSecretStore::put(std::string_view entity, std::string_view name,
                               const StoredSecret& secret) {
    const SealedSecret sealed = detail::cipher::seal_secret(keys_->current(), entity, name, secret);
    state_->pool.run([&](Connection& c) {
        write_row(c, entity, name, sealed, secret.previous_expires, secret.updated_at);
    });
}

std::optional<StoredSecret> EncryptedSecretStore::get(std::string_view entity,
                                                      std::string_view name) const {
    const Result r = state_->pool.run([&](Connection& c) {
        return c.exec(
            "SELECT key_id, nonce, ciphertext, previous_expires, updated_at FROM secrets"
            " WHERE entity = $1 AND name = $2",
            Params().text(entity).text(name));
    });
    if (r.rows() == 0)
        return std::nullopt;
    return detail::cipher::open_secret(*keys_, entity, name, sealed_row(r, 0, 0),
                                       timestamp(r.int64(0, 3)), timestamp(r.int64(0, 4)));
}

bool EncryptedSecretStore::contains(std::string_view entity, std::string_view name) const {
    return state_->pool.run([&](Connection& c) {
        return c.exec("SELECT 1 FROM secrets WHERE entity = $1 AND name = $2",
                      Params().text(entity).text(name))
                   .rows() > 0;
    });
}

bool EncryptedSecretStore::erase(std::string_view entity, std::string_view name) {
    return state_->pool.run([&](Connection& c) {
        return c.exec("DELETE FROM secrets WHERE entity = $1 AND name = $2",
                      Params().text(entity).text(name))
                   .changed() > 0;
    });
}

std::vector<std::string> EncryptedSecretStore::names(std::string_view entity) const {
    const Result r = state_->pool.run([&](Connection& c) {
        return c.exec("SELECT name FROM secrets WHERE entity = $1 ORDER BY name COLLATE \"C\"",
                      Params().text(entity));
    });
    std::vector<std::string> out;
    for (int i = 0; i < r.rows(); ++i)
        out.emplace_back(r.text(i, 0));
    return out;
}

std::size_t EncryptedSecretStore::rotate_key() {
    const EncryptionKey& current = keys_->current();
    return state_->pool.transact([&](Connection& c) {
        const Result r = c.exec(
            "SELECT entity, name, key_id, nonce, ciphertext, previous_expires, updated_at"
            " FROM secrets WHERE key_id <> $1 FOR UPDATE",
            Params().text(current.id()));
        for (int i = 0; i < r.rows(); ++i) {
            const std::string entity(r.text(i, 0)), name(r.text(i, 1));
            const StoredSecret secret =
                detail::cipher::open_secret(*keys_, entity, name, sealed_row(r, i, 2),
                                            timestamp(r.int64(i, 5)), timestamp(r.int64(i, 6)));
            write_row(c, entity, name, detail::cipher::seal_secret(current, entity, name, secret),
                      secret.previous_expires, secret.updated_at);
        }
        return static_cast<std::size_t>(r.rows());
    });
}

std::shared_ptr<EncryptedSecretStore> Database::secrets(std::shared_ptr<const KeyProvider> keys) {
    if (!keys)
        throw Error(errc::invalid_argument, "key", "no key provider");
    const Result r = state_->pool.run(
        [&](Connection& c) { return c.exec("SELECT DISTINCT key_id FROM secrets"); });
    std::string missing;
    for (int i = 0; i < r.rows(); ++i)
        if (!keys->find(r.text(i, 0)))
            missing += (missing.empty() ? "" : ", ") + std::string(r.text(i, 0));
    if (!missing.empty())
        throw Error(errc::storage_failure, "key",
                    "PostgreSQL schema '" + state_->schema + "': secrets are encrypted under key " +
                        missing + ", which the key provider does not have (wrong key?)");
    return std::make_shared<EncryptedSecretStore>(state_, std::move(keys));
}

}  // namespace herald::postgres
