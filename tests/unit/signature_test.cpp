// Signature schemes (src/delivery/signature.hpp): wandb against the openssl command line,
// standard against the Standard Webhooks reference vectors, github against GitHub's documented
// example.
#include "delivery/signature.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

namespace {

using namespace herald::detail;

std::string run(const std::string& command) {
    std::unique_ptr<FILE, int (*)(FILE*)> pipe{popen(command.c_str(), "r"), pclose};
    REQUIRE(pipe);
    std::string output;
    std::array<char, 256> chunk;
    while (auto n = std::fread(chunk.data(), 1, chunk.size(), pipe.get()))
        output.append(chunk.data(), n);
    while (!output.empty() && (output.back() == '\n' || output.back() == '\r'))
        output.pop_back();
    return output;
}

// The documented pipeline, fed through the environment so the shell sees the exact bytes.
std::string openssl_wandb(const std::string& payload, const std::string& secret) {
    setenv("HERALD_TEST_PAYLOAD", payload.c_str(), 1);
    setenv("HERALD_TEST_SECRET", secret.c_str(), 1);
    return run(
        "printf '%s' \"$HERALD_TEST_PAYLOAD\" | openssl dgst -sha256 -hmac \"$HERALD_TEST_SECRET\" "
        "-binary | base64");
}

TEST_CASE("wandb signature equals the openssl command line", "[signature]") {
    const std::string payload =
        GENERATE(std::string(R"({"event_type":"ADD_ARTIFACT_ALIAS","alias":"production"})"),
                 std::string("{}"), std::string(R"({"text":"unicode \u00e9 é, quotes ' and \""})"),
                 std::string(3000, 'p'));
    const std::string secret =
        GENERATE(std::string("s3cr3t"), std::string("a key with spaces & $yms"));
    CHECK(wandb_signature(payload, secret) == openssl_wandb(payload, secret));
}

TEST_CASE("github signature matches GitHub's documented example", "[signature]") {
    CHECK(github_signature("Hello, World!", "It's a Secret to Everybody") ==
          "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
}

// libraries/python/tests/test_webhooks.py (test_sign_function) in
// standard-webhooks/standard-webhooks.
TEST_CASE("standard signature matches the Standard Webhooks reference vector", "[signature]") {
    const auto key = decode_standard_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    REQUIRE(key);
    CHECK(standard_signature("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, R"({"test": 2432232314})",
                             {*key}) == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    SECTION("the whsec_ prefix is optional") {
        CHECK(decode_standard_secret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") == key);
    }
}

TEST_CASE("standard signature lists every key during rotation", "[signature]") {
    const auto old_key = decode_standard_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    const auto new_key = decode_standard_secret("whsec_c2Vjb25kIGtleSBmb3Igcm90YXRpb24=");
    REQUIRE(old_key);
    REQUIRE(new_key);
    const auto header = standard_signature("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                                           R"({"test": 2432232314})", {*old_key, *new_key});
    const auto single_new = standard_signature("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                                               R"({"test": 2432232314})", {*new_key});
    CHECK(header == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= " + single_new);
}

TEST_CASE("malformed standard secrets are rejected", "[signature]") {
    CHECK_FALSE(decode_standard_secret("whsec_"));
    CHECK_FALSE(decode_standard_secret("whsec_not base64!"));
    CHECK_FALSE(decode_standard_secret("abc"));
    CHECK(decode_standard_secret("whsec_YWJj") == std::string("abc"));
    CHECK(decode_standard_secret("whsec_YQ==") == std::string("a"));
}

}  // namespace
