// herald/sqlite/key_provider.hpp: keys from text, files and the environment.
#include "sqlite/temp_dir.hpp"
#include "support/error_of.hpp"

#include <herald/sqlite/key_provider.hpp>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>

using namespace herald;
using herald::test::error_of;

namespace {

const std::string hex_key = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const std::string base64_key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const std::string other_hex = "ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

/// Sets (or, with nullptr, unsets) an environment variable for one scope.
class ScopedEnv {
  public:
    ScopedEnv(const char* name, const char* value) : name_(name) {
        if (value)
            setenv(name, value, 1);
        else
            unsetenv(name);
    }
    ~ScopedEnv() { unsetenv(name_); }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

  private:
    const char* name_;
};

}  // namespace

TEST_CASE("a key is read from hex or base64 and named by its fingerprint", "[sqlite][keys]") {
    const auto from_hex = sqlite::EncryptionKey::parse(hex_key, "key");
    const auto from_base64 = sqlite::EncryptionKey::parse(" " + base64_key + "\n", "key");
    CHECK(from_hex.id() == from_base64.id());
    CHECK(from_hex.id().size() == 16);
    CHECK(from_hex.bytes()[31] == 0x1f);
    CHECK(sqlite::EncryptionKey::parse(other_hex, "key").id() != from_hex.id());
}

TEST_CASE("a malformed key is refused without echoing it", "[sqlite][keys]") {
    for (const std::string& bad :
         {hex_key.substr(1), hex_key + "00", "zz" + hex_key.substr(2), base64_key.substr(4),
          std::string("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8A"), std::string()}) {
        const Error e = error_of([&] { sqlite::EncryptionKey::parse(bad, "key (test)"); });
        CHECK(e.code() == errc::invalid_argument);
        CHECK(e.field() == "key (test)");
        if (!bad.empty())
            CHECK(std::string(e.what()).find(bad) == std::string::npos);
    }
}

TEST_CASE("the default provider reads the environment or a key file", "[sqlite][keys]") {
    test::TempDir dir;
    const auto file = dir / "secret.key";
    std::ofstream(file) << other_hex << "\n\n" << hex_key << "\n";

    {
        ScopedEnv key("HERALD_SECRET_KEY", hex_key.c_str());
        ScopedEnv key_file("HERALD_SECRET_KEY_FILE", nullptr);
        CHECK(sqlite::key_from_environment()->current().id() ==
              sqlite::EncryptionKey::parse(hex_key, "").id());
    }
    {
        ScopedEnv key("HERALD_SECRET_KEY", nullptr);
        ScopedEnv key_file("HERALD_SECRET_KEY_FILE", file.c_str());
        auto provider = sqlite::key_from_environment();
        const auto current = sqlite::EncryptionKey::parse(other_hex, "");
        const auto retired = sqlite::EncryptionKey::parse(hex_key, "");
        CHECK(provider->current().id() == current.id());
        REQUIRE(provider->find(retired.id()));
        CHECK(provider->find(retired.id())->id() == retired.id());
        CHECK_FALSE(provider->find("0000000000000000"));
    }
    {
        ScopedEnv key("HERALD_SECRET_KEY", nullptr);
        ScopedEnv key_file("HERALD_SECRET_KEY_FILE", nullptr);
        const Error e = error_of([] { sqlite::key_from_environment(); });
        CHECK(e.code() == errc::invalid_argument);
        CHECK(e.reason().find("HERALD_SECRET_KEY") != std::string::npos);
    }
}

TEST_CASE("a missing, empty or malformed key file is refused", "[sqlite][keys]") {
    test::TempDir dir;
    CHECK(error_of([&] { sqlite::key_from_file(dir / "missing.key"); }).code() ==
          errc::invalid_argument);
    std::ofstream(dir / "empty.key") << "\n \n";
    CHECK(error_of([&] { sqlite::key_from_file(dir / "empty.key"); }).reason().find("no key") !=
          std::string::npos);
    std::ofstream(dir / "bad.key") << hex_key << "\nnot-a-key\n";
    const Error e = error_of([&] { sqlite::key_from_file(dir / "bad.key"); });
    CHECK(e.field().find("line 2") != std::string::npos);
}
