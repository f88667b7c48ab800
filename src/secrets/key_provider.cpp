#include "util/hex.hpp"

#include <herald/error.hpp>
#include <herald/key_provider.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <optional>

namespace herald {
namespace {

using KeyBytes = std::array<unsigned char, EncryptionKey::size>;

std::string_view trim(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos)
        return {};
    return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

std::optional<KeyBytes> from_hex(std::string_view text) {
    if (text.size() != 2 * EncryptionKey::size)
        return std::nullopt;
    KeyBytes bytes{};
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        const int high = detail::hex_value(text[2 * i]);
        const int low = detail::hex_value(text[2 * i + 1]);
        if (high < 0 || low < 0)
            return std::nullopt;
        bytes[i] = static_cast<unsigned char>(high * 16 + low);
    }
    return bytes;
}

// 32 bytes are 44 base64 characters, the last one '='. EVP_DecodeBlock decodes whole groups
// (33 bytes here, the padding as a zero byte), so the length is checked before and after.
std::optional<KeyBytes> from_base64(std::string_view text) {
    constexpr std::size_t encoded = 4 * ((EncryptionKey::size + 2) / 3);
    if (text.size() != encoded || !text.ends_with('=') || text.ends_with("=="))
        return std::nullopt;
    std::array<unsigned char, 3 * encoded / 4> decoded{};
    const int written =
        EVP_DecodeBlock(decoded.data(), reinterpret_cast<const unsigned char*>(text.data()),
                        static_cast<int>(text.size()));
    if (written != static_cast<int>(decoded.size()))
        return std::nullopt;
    KeyBytes bytes{};
    std::copy_n(decoded.begin(), bytes.size(), bytes.begin());
    OPENSSL_cleanse(decoded.data(), decoded.size());
    return bytes;
}

std::string key_id(std::span<const unsigned char, EncryptionKey::size> bytes) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr) != 1)
        throw Error(errc::storage_failure, "key", "SHA-256 failed");
    static constexpr char digits[] = "0123456789abcdef";
    std::string id;
    for (std::size_t i = 0; i < 8; ++i) {
        id += digits[digest[i] >> 4];
        id += digits[digest[i] & 0x0f];
    }
    return id;
}

}  // namespace

EncryptionKey::EncryptionKey(std::span<const unsigned char, size> bytes) : id_(key_id(bytes)) {
    std::copy(bytes.begin(), bytes.end(), bytes_.begin());
}

EncryptionKey::~EncryptionKey() {
    OPENSSL_cleanse(bytes_.data(), bytes_.size());
}

EncryptionKey EncryptionKey::parse(std::string_view text, std::string_view source) {
    text = trim(text);
    std::optional<KeyBytes> bytes = from_hex(text);
    if (!bytes)
        bytes = from_base64(text);
    if (!bytes)
        throw Error(errc::invalid_argument, std::string(source),
                    "is not a 256-bit key: expected 64 hex digits or the base64 of 32 bytes");
    EncryptionKey key(*bytes);
    OPENSSL_cleanse(bytes->data(), bytes->size());
    return key;
}

StaticKeyProvider::StaticKeyProvider(EncryptionKey current, std::vector<EncryptionKey> retired) {
    keys_.push_back(std::move(current));
    for (EncryptionKey& key : retired)
        keys_.push_back(std::move(key));
}

const EncryptionKey& StaticKeyProvider::current() const {
    return keys_.front();
}

const EncryptionKey* StaticKeyProvider::find(std::string_view id) const {
    auto it = std::find_if(keys_.begin(), keys_.end(), [&](const auto& k) { return k.id() == id; });
    return it == keys_.end() ? nullptr : &*it;
}

std::shared_ptr<KeyProvider> key_from_file(const std::filesystem::path& path) {
    std::ifstream file(path);
    if (!file)
        throw Error(errc::invalid_argument, "key", "cannot read key file " + path.string());
    std::vector<EncryptionKey> keys;
    std::string line;
    for (int number = 1; std::getline(file, line); ++number) {
        if (!trim(line).empty())
            keys.push_back(EncryptionKey::parse(
                line, "key (" + path.string() + " line " + std::to_string(number) + ")"));
        OPENSSL_cleanse(line.data(), line.size());
    }
    if (keys.empty())
        throw Error(errc::invalid_argument, "key", "key file " + path.string() + " holds no key");
    EncryptionKey current = std::move(keys.front());
    keys.erase(keys.begin());
    return std::make_shared<StaticKeyProvider>(std::move(current), std::move(keys));
}

std::shared_ptr<KeyProvider> key_from_environment() {
    if (const char* key = std::getenv("HERALD_SECRET_KEY"); key && *key)
        return std::make_shared<StaticKeyProvider>(
            EncryptionKey::parse(key, "key (HERALD_SECRET_KEY)"));
    if (const char* file = std::getenv("HERALD_SECRET_KEY_FILE"); file && *file)
        return key_from_file(file);
    throw Error(errc::invalid_argument, "key",
                "no secret key: set HERALD_SECRET_KEY (64 hex digits or base64 of 32 bytes) or "
                "HERALD_SECRET_KEY_FILE (a file holding one)");
}

}  // namespace herald
