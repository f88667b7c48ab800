#include "delivery/signature.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <array>
#include <stdexcept>

namespace herald::detail {
namespace {

using Digest = std::array<unsigned char, 32>;

// OpenSSL 3's one-shot HMAC() looks the algorithm up on every call, which costs more than the
// hash of a typical payload; a per-thread context set up once is re-keyed instead.
class HmacSha256 {
  public:
    HmacSha256() : mac_(EVP_MAC_fetch(nullptr, "HMAC", nullptr)), ctx_(EVP_MAC_CTX_new(mac_)) {
        char digest[] = "SHA256";
        const OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_END};
        if (ctx_ == nullptr || EVP_MAC_CTX_set_params(ctx_, params) != 1)
            throw std::runtime_error("HMAC-SHA256 is not available");
    }
    ~HmacSha256() {
        EVP_MAC_CTX_free(ctx_);
        EVP_MAC_free(mac_);
    }
    HmacSha256(const HmacSha256&) = delete;
    HmacSha256& operator=(const HmacSha256&) = delete;

    Digest operator()(std::string_view key, std::string_view data) {
        // OpenSSL refuses a null key pointer even for an empty key.
        static constexpr unsigned char empty_key = 0;
        const auto* key_bytes =
            key.empty() ? &empty_key : reinterpret_cast<const unsigned char*>(key.data());
        Digest digest{};
        std::size_t length = 0;
        if (EVP_MAC_init(ctx_, key_bytes, key.size(), nullptr) != 1 ||
            EVP_MAC_update(ctx_, reinterpret_cast<const unsigned char*>(data.data()),
                           data.size()) != 1 ||
            EVP_MAC_final(ctx_, digest.data(), &length, digest.size()) != 1 ||
            length != digest.size())
            throw std::runtime_error("HMAC-SHA256 failed");
        return digest;
    }

  private:
    EVP_MAC* mac_;
    EVP_MAC_CTX* ctx_;
};

Digest hmac_sha256(std::string_view key, std::string_view data) {
    thread_local HmacSha256 hmac;
    return hmac(key, data);
}

std::string base64(const Digest& digest) {
    std::string text(4 * ((digest.size() + 2) / 3), '\0');
    const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(text.data()),
                                        digest.data(), static_cast<int>(digest.size()));
    text.resize(static_cast<std::size_t>(written));
    return text;
}

std::string hex(const Digest& digest) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string text;
    text.reserve(2 * digest.size());
    for (unsigned char byte : digest) {
        text += digits[byte >> 4];
        text += digits[byte & 0x0f];
    }
    return text;
}

bool is_base64_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

// EVP_DecodeBlock accepts some malformed input and pads its output with zero bytes for '=',
// so the text is checked strictly first and the padding subtracted afterwards.
std::optional<std::string> decode_base64(std::string_view text) {
    if (text.empty() || text.size() % 4 != 0)
        return std::nullopt;
    const std::size_t padding = text.ends_with("==") ? 2 : text.ends_with('=') ? 1 : 0;
    for (std::size_t i = 0; i < text.size() - padding; ++i)
        if (!is_base64_char(text[i]))
            return std::nullopt;
    std::string bytes(3 * text.size() / 4, '\0');
    const int written = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(bytes.data()),
                                        reinterpret_cast<const unsigned char*>(text.data()),
                                        static_cast<int>(text.size()));
    if (written < 0)
        return std::nullopt;
    bytes.resize(static_cast<std::size_t>(written) - padding);
    return bytes;
}

}  // namespace

std::string wandb_signature(std::string_view body, std::string_view secret) {
    return base64(hmac_sha256(secret, body));
}

std::string github_signature(std::string_view body, std::string_view secret) {
    return "sha256=" + hex(hmac_sha256(secret, body));
}

std::optional<std::string> decode_standard_secret(std::string_view secret) {
    if (secret.starts_with("whsec_"))
        secret.remove_prefix(6);
    auto key = decode_base64(secret);
    if (!key || key->empty())
        return std::nullopt;
    return key;
}

std::string standard_signature(std::string_view id, std::int64_t timestamp, std::string_view body,
                               const std::vector<std::string>& keys) {
    std::string signed_content;
    signed_content.reserve(id.size() + 24 + body.size());
    signed_content.append(id)
        .append(".")
        .append(std::to_string(timestamp))
        .append(".")
        .append(body);
    std::string header;
    for (const auto& key : keys) {
        if (!header.empty())
            header += ' ';
        header += "v1,";
        header += base64(hmac_sha256(key, signed_content));
    }
    return header;
}

}  // namespace herald::detail
