// herald::sqlite::EncryptedSecretStore (herald/sqlite/secret_store.hpp): values encrypted at
// rest, tampering and wrong keys detected, key rotation.
#include "sqlite/temp_dir.hpp"
#include "support/error_of.hpp"

#include <herald/sqlite/database.hpp>

#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <array>
#include <fstream>
#include <iterator>

using namespace herald;
using herald::test::error_of;
using herald::test::TempDir;

namespace {

const Timestamp t0{std::chrono::hours{1000}};

/// Key number `n`: bytes no file holds by chance.
sqlite::EncryptionKey key_of(unsigned char n) {
    std::array<unsigned char, 32> bytes{};
    for (std::size_t i = 0; i < bytes.size(); ++i)
        bytes[i] = static_cast<unsigned char>(n * 37 + i * 101 + 7);
    return sqlite::EncryptionKey(bytes);
}

std::shared_ptr<sqlite::KeyProvider> keys(unsigned char current,
                                          std::vector<unsigned char> retired = {}) {
    std::vector<sqlite::EncryptionKey> old;
    for (unsigned char r : retired)
        old.push_back(key_of(r));
    return std::make_shared<sqlite::StaticKeyProvider>(key_of(current), std::move(old));
}

StoredSecret secret(std::string value) {
    return {.value = SecretValue(value)};
}

std::string file_bytes(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// Runs SQL on the file through a connection of its own, as someone editing the file would.
void edit_file(const std::filesystem::path& file, const char* sql) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
}

/// Whether `call` throws storage_failure (field "secret") without revealing `value`.
bool refused_without_revealing(const std::function<void()>& call, const std::string& value) {
    const Error e = error_of(call);
    return e.code() == errc::storage_failure && e.field() == "secret" &&
           std::string(e.what()).find(value) == std::string::npos &&
           e.reason().find(value) == std::string::npos;
}

/// Finds the key it was given until `budget` lookups are spent: a provider that fails
/// half-way through a rotation.
class FailingProvider final : public sqlite::KeyProvider {
  public:
    FailingProvider(std::shared_ptr<sqlite::KeyProvider> keys, int budget)
        : keys_(std::move(keys)), budget_(budget) {}
    const sqlite::EncryptionKey& current() const override { return keys_->current(); }
    const sqlite::EncryptionKey* find(std::string_view id) const override {
        return budget_-- > 0 ? keys_->find(id) : nullptr;
    }

  private:
    std::shared_ptr<sqlite::KeyProvider> keys_;
    mutable std::atomic<int> budget_;
};

}  // namespace

TEST_CASE("the encrypted store keeps values, previous values and times per entity",
          "[sqlite][secrets]") {
    TempDir dir;
    auto store = sqlite::open(dir / "herald.db")->secrets(keys(1));
    store->put("acme", "B_KEY", secret("b"));
    store->put("acme", "A_KEY", secret(""));
    store->put("globex", "A_KEY", secret("other"));
    store->put("acme", "SIGNING",
               {.value = SecretValue("new"),
                .previous = SecretValue("old"),
                .previous_expires = t0,
                .updated_at = t0 - std::chrono::hours{1}});

    CHECK(store->names("acme") == std::vector<std::string>{"A_KEY", "B_KEY", "SIGNING"});
    CHECK(store->names("nobody").empty());
    CHECK(store->get("acme", "A_KEY")->value.reveal().empty());
    CHECK(store->get("globex", "A_KEY")->value.reveal() == "other");
    const auto signing = store->get("acme", "SIGNING");
    REQUIRE(signing);
    CHECK(signing->value.reveal() == "new");
    REQUIRE(signing->previous);
    CHECK(signing->previous->reveal() == "old");
    CHECK(signing->previous_expires == t0);
    CHECK(signing->updated_at == t0 - std::chrono::hours{1});
    CHECK_FALSE(store->get("acme", "B_KEY")->previous);
    CHECK_FALSE(store->get("acme", "C_KEY"));

    store->put("acme", "B_KEY", secret("b2"));
    CHECK(store->get("acme", "B_KEY")->value.reveal() == "b2");
    CHECK(store->contains("acme", "B_KEY"));
    CHECK(store->erase("acme", "B_KEY"));
    CHECK_FALSE(store->erase("acme", "B_KEY"));
    CHECK_FALSE(store->contains("acme", "B_KEY"));
}

TEST_CASE("the database files never hold a plaintext secret", "[sqlite][secrets]") {
    TempDir dir;
    const auto file = dir / "herald.db";
    const std::vector<std::string> canaries = {"canary-GH-TOKEN-7f3a9c21e4",
                                               "canary-previous-0b8d5e6f12",
                                               "canary-deleted-93c1a7d4b0", "s"};
    auto check_files = [&] {
        for (const char* suffix : {"", "-wal", "-shm"}) {
            const auto path = file.string() + suffix;
            if (!std::filesystem::exists(path))
                continue;
            const std::string bytes = file_bytes(path);
            for (std::size_t i = 0; i + 1 < canaries.size(); ++i) {
                INFO(path << " must not hold canary " << i);
                CHECK(bytes.find(canaries[i]) == std::string::npos);
            }
            const sqlite::EncryptionKey key = key_of(1);
            CHECK(bytes.find(std::string(key.bytes().begin(), key.bytes().end())) ==
                  std::string::npos);
        }
    };
    {
        auto database = sqlite::open(file);
        auto store = database->secrets(keys(1));
        store->put("acme", "GH_TOKEN",
                   {.value = SecretValue(canaries[0]), .previous = SecretValue(canaries[1])});
        store->put("acme", "GONE", secret(canaries[2]));
        store->erase("acme", "GONE");
        CHECK(std::filesystem::exists(file.string() + "-wal"));
        check_files();  // while open: the WAL holds the latest writes
    }
    check_files();  // after the WAL was checkpointed into the file
}

TEST_CASE("an altered or moved ciphertext is detected without revealing the value",
          "[sqlite][secrets]") {
    TempDir dir;
    const auto file = dir / "herald.db";
    const std::string value = "canary-value-5d2e8f";
    {
        auto store = sqlite::open(file)->secrets(keys(1));
        store->put("acme", "FLIPPED", secret(value));
        store->put("acme", "MOVED", secret(value));
        store->put("acme", "NONCE", secret(value));
    }
    edit_file(file,
              "UPDATE secrets SET ciphertext = "
              "  substr(ciphertext, 1, 2) || x'ff' || substr(ciphertext, 4) WHERE name = 'FLIPPED';"
              "UPDATE secrets SET entity = 'globex' WHERE name = 'MOVED';"
              "UPDATE secrets SET nonce = zeroblob(12) WHERE name = 'NONCE';");
    auto store = sqlite::open(file)->secrets(keys(1));
    CHECK(refused_without_revealing([&] { store->get("acme", "FLIPPED"); }, value));
    CHECK(refused_without_revealing([&] { store->get("globex", "MOVED"); }, value));
    CHECK(refused_without_revealing([&] { store->get("acme", "NONCE"); }, value));
}

TEST_CASE("a wrong or missing key is refused at start", "[sqlite][secrets]") {
    TempDir dir;
    auto database = sqlite::open(dir / "herald.db");
    database->secrets(keys(1))->put("acme", "GH_TOKEN", secret("v"));

    const Error wrong = error_of([&] { database->secrets(keys(2)); });
    CHECK(wrong.code() == errc::storage_failure);
    CHECK(wrong.field() == "key");
    CHECK(wrong.reason().find(key_of(1).id()) != std::string::npos);
    CHECK(error_of([&] { database->secrets(nullptr); }).code() == errc::invalid_argument);
}

TEST_CASE("rotation re-encrypts every value under the current key, all or none",
          "[sqlite][secrets]") {
    TempDir dir;
    auto database = sqlite::open(dir / "herald.db");
    auto old_store = database->secrets(keys(1));
    for (const char* name : {"A", "B", "C"})
        old_store->put("acme", name, secret(std::string("value-") + name));

    // The provider loses the old key after two lookups: the rotation fails and changes nothing.
    auto failing = database->secrets(std::make_shared<FailingProvider>(keys(2, {1}), 2));
    CHECK_THROWS_AS(failing->rotate_key(), Error);
    CHECK(old_store->get("acme", "C")->value.reveal() == "value-C");
    CHECK_THROWS_AS(database->secrets(keys(2)), Error);

    auto rotating = database->secrets(keys(2, {1}));
    CHECK(rotating->rotate_key() == 3);
    CHECK(rotating->rotate_key() == 0);
    auto new_store = database->secrets(keys(2));  // the old key is no longer needed
    CHECK(new_store->get("acme", "B")->value.reveal() == "value-B");
    CHECK_THROWS_AS(database->secrets(keys(1)), Error);
}

TEST_CASE("every write seals with a fresh nonce", "[sqlite][secrets]") {
    TempDir dir;
    const auto file = dir / "herald.db";
    auto database = sqlite::open(file);
    auto store = database->secrets(keys(1));
    auto sealed = [&] {
        sqlite3* db = nullptr;
        REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
        sqlite3_stmt* row = nullptr;
        REQUIRE(sqlite3_prepare_v2(db, "SELECT hex(nonce) || hex(ciphertext) FROM secrets", -1,
                                   &row, nullptr) == SQLITE_OK);
        REQUIRE(sqlite3_step(row) == SQLITE_ROW);
        std::string text = reinterpret_cast<const char*>(sqlite3_column_text(row, 0));
        sqlite3_finalize(row);
        sqlite3_close(db);
        return text;
    };
    store->put("acme", "TOKEN", secret("same value"));
    const std::string first = sealed();
    store->put("acme", "TOKEN", secret("same value"));
    CHECK(sealed() != first);
}
