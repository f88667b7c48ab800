#include "codec/storage_codec.hpp"
#include "secrets/sealed_secret.hpp"
#include "sqlite/core.hpp"

#include <herald/error.hpp>
#include <herald/sqlite/database.hpp>
#include <herald/sqlite/secret_store.hpp>

#include <cstdint>
#include <string>

namespace herald::sqlite {
namespace {

using detail::cipher::SealedSecret;
using detail::sqlite::Connection;
using detail::sqlite::Query;
using detail::sqlite::Statement;

/// The sealed columns `first`, ... of a secrets row (key_id, nonce, ciphertext).
SealedSecret sealed_row(const Statement& row, int first) {
    const auto nonce = row.blob(first + 1);
    const auto ciphertext = row.blob(first + 2);
    return {std::string(row.text(first)),
            {nonce.begin(), nonce.end()},
            {ciphertext.begin(), ciphertext.end()}};
}

void write_row(Connection& c, std::string_view entity, std::string_view name,
               const SealedSecret& sealed, Timestamp previous_expires, Timestamp updated_at) {
    Query(c,
          "INSERT INTO secrets (entity, name, key_id, nonce, ciphertext, previous_expires, "
          "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO UPDATE SET "
          "key_id = excluded.key_id, nonce = excluded.nonce, "
          "ciphertext = excluded.ciphertext, previous_expires = excluded.previous_expires, "
          "updated_at = excluded.updated_at")
        ->bind(1, entity)
        .bind(2, name)
        .bind(3, sealed.key_id)
        .bind(4, sealed.nonce)
        .bind(5, sealed.ciphertext)
        .bind(6, detail::codec::nanos(previous_expires))
        .bind(7, detail::codec::nanos(updated_at))
        .run();
}

}  // namespace

EncryptedSecretStore::EncryptedSecretStore(std::shared_ptr<Backend> backend,
                                           std::shared_ptr<const KeyProvider> keys)
    : backend_(std::move(backend)), keys_(std::move(keys)) {}

EncryptedSecretStore::~EncryptedSecretStore() = default;

void EncryptedSecretStore::put(std::string_view entity, std::string_view name,
                               const StoredSecret& secret) {
    const SealedSecret sealed = detail::cipher::seal_secret(keys_->current(), entity, name, secret);
    backend_->core->write([&](Connection& c) {
        write_row(c, entity, name, sealed, secret.previous_expires, secret.updated_at);
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
        return detail::cipher::open_secret(*keys_, entity, name, sealed_row(*q, 0),
                                           detail::codec::timestamp(q->int64(3)),
                                           detail::codec::timestamp(q->int64(4)));
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
            SealedSecret sealed;
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
            const StoredSecret secret =
                detail::cipher::open_secret(*keys_, row.entity, row.name, row.sealed,
                                            detail::codec::timestamp(row.previous_expires),
                                            detail::codec::timestamp(row.updated_at));
            write_row(c, row.entity, row.name,
                      detail::cipher::seal_secret(current, row.entity, row.name, secret),
                      secret.previous_expires, secret.updated_at);
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
