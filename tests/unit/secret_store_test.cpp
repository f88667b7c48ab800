// SecretStore, MemorySecretStore and SecretResolver.
#include <herald/error.hpp>
#include <herald/secret_store.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace herald;

TEST_CASE("MemorySecretStore keeps values per entity and lists names sorted", "[secrets]") {
    MemorySecretStore store;
    store.put("acme", "B_KEY", {.value = SecretValue("b")});
    store.put("acme", "A_KEY", {.value = SecretValue("a")});
    store.put("globex", "A_KEY", {.value = SecretValue("other")});

    CHECK(store.names("acme") == std::vector<std::string>{"A_KEY", "B_KEY"});
    CHECK(store.names("nobody").empty());
    CHECK(store.get("acme", "A_KEY")->value.reveal() == "a");
    CHECK(store.get("globex", "A_KEY")->value.reveal() == "other");
    CHECK_FALSE(store.get("acme", "C_KEY"));
    CHECK(store.contains("acme", "B_KEY"));

    store.put("acme", "A_KEY", {.value = SecretValue("a2")});
    CHECK(store.get("acme", "A_KEY")->value.reveal() == "a2");
    CHECK(store.erase("acme", "A_KEY"));
    CHECK_FALSE(store.erase("acme", "A_KEY"));
    CHECK_FALSE(store.contains("acme", "A_KEY"));
}

TEST_CASE("SecretValue copies and moves keep the value where it belongs", "[secrets]") {
    SecretValue a("short");
    SecretValue b = a;
    CHECK(b.reveal() == "short");
    SecretValue c = std::move(a);
    CHECK(c.reveal() == "short");
    CHECK(a.empty());  // NOLINT(bugprone-use-after-move): moved-from is wiped and empty
    c = SecretValue(std::string(100, 'x'));
    CHECK(c.reveal() == std::string(100, 'x'));
}

TEST_CASE("SecretResolver reads each secret once and maps ACCESS_TOKEN", "[secrets]") {
    MemorySecretStore store;
    store.put("acme", "GH_TOKEN", {.value = SecretValue("gh-1")});
    SecretResolver resolver{store, "acme", Timestamp{}, "GH_TOKEN"};
    CHECK(resolver.value("ACCESS_TOKEN").reveal() == "gh-1");
    store.put("acme", "GH_TOKEN", {.value = SecretValue("gh-2")});
    // One send sees one value, even when the secret is rotated meanwhile.
    CHECK(resolver.value("GH_TOKEN").reveal() == "gh-1");

    SecretResolver without_token{store, "acme", Timestamp{}};
    CHECK_THROWS_MATCHES(without_token.value("ACCESS_TOKEN"), Error,
                         Catch::Predicate<Error>([](const Error& e) {
                             return e.code() == errc::not_found && e.field() == "secret";
                         }));
    CHECK_THROWS_AS(without_token.value("MISSING"), Error);
}

TEST_CASE("signing keys include the previous value during its grace period", "[secrets]") {
    MemorySecretStore store;
    const Timestamp t0{std::chrono::hours{1000}};
    store.put("acme", "SIGNING",
              {.value = SecretValue("new"),
               .previous = SecretValue("old"),
               .previous_expires = t0 + std::chrono::hours{1}});
    SecretResolver during{store, "acme", t0};
    CHECK(during.signing_keys("SIGNING") == std::vector<std::string_view>{"new", "old"});
    SecretResolver after{store, "acme", t0 + std::chrono::hours{1}};
    CHECK(after.signing_keys("SIGNING") == std::vector<std::string_view>{"new"});
}

TEST_CASE("redact masks every value read, raw and JSON-escaped, longest first", "[secrets]") {
    MemorySecretStore store;
    store.put("acme", "LONG", {.value = SecretValue("abc-def")});
    store.put("acme", "SHORT", {.value = SecretValue("abc")});
    store.put("acme", "QUOTED", {.value = SecretValue("q\"t")});
    store.put("acme", "UNREAD", {.value = SecretValue("zzz")});
    SecretResolver resolver{store, "acme", Timestamp{}};
    resolver.value("SHORT");
    resolver.value("LONG");
    resolver.value("QUOTED");
    CHECK(resolver.redact(R"(abc-def abc q"t q\"t zzz)") ==
          "******** ******** ******** ******** zzz");
}
