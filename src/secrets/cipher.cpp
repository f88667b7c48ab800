#include "secrets/cipher.hpp"

#include <herald/error.hpp>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <memory>

namespace herald::detail::cipher {
namespace {

struct ContextDeleter {
    void operator()(EVP_CIPHER_CTX* context) const noexcept { EVP_CIPHER_CTX_free(context); }
};
using Context = std::unique_ptr<EVP_CIPHER_CTX, ContextDeleter>;

[[noreturn]] void openssl_failed(std::string_view doing) {
    throw Error(errc::storage_failure, "secret", std::string(doing) + " failed in OpenSSL");
}

const unsigned char* bytes_of(std::string_view text) {
    return reinterpret_cast<const unsigned char*>(text.data());
}

}  // namespace

Sealed seal(const herald::EncryptionKey& key, std::string_view plaintext,
            std::string_view associated_data) {
    Sealed out;
    if (RAND_bytes(out.nonce.data(), static_cast<int>(out.nonce.size())) != 1)
        openssl_failed("generating a nonce");
    Context context(EVP_CIPHER_CTX_new());
    int length = 0;
    out.ciphertext.resize(plaintext.size() + tag_size);
    if (!context ||
        EVP_EncryptInit_ex(context.get(), EVP_aes_256_gcm(), nullptr, key.bytes().data(),
                           out.nonce.data()) != 1 ||
        EVP_EncryptUpdate(context.get(), nullptr, &length, bytes_of(associated_data),
                          static_cast<int>(associated_data.size())) != 1 ||
        EVP_EncryptUpdate(context.get(), out.ciphertext.data(), &length, bytes_of(plaintext),
                          static_cast<int>(plaintext.size())) != 1 ||
        EVP_EncryptFinal_ex(context.get(), out.ciphertext.data() + length, &length) != 1 ||
        EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_GET_TAG, tag_size,
                            out.ciphertext.data() + plaintext.size()) != 1)
        openssl_failed("encrypting a secret");
    return out;
}

std::optional<std::string> unseal(const herald::EncryptionKey& key,
                                  std::span<const unsigned char> nonce,
                                  std::span<const unsigned char> ciphertext,
                                  std::string_view associated_data) {
    if (nonce.size() != nonce_size || ciphertext.size() < tag_size)
        return std::nullopt;
    const std::size_t text_size = ciphertext.size() - tag_size;
    Context context(EVP_CIPHER_CTX_new());
    std::string plaintext(text_size, '\0');
    auto* out = reinterpret_cast<unsigned char*>(plaintext.data());
    int length = 0;
    // The tag is only read by EVP_CTRL_GCM_SET_TAG, which takes a non-const pointer.
    std::array<unsigned char, tag_size> tag{};
    std::copy(ciphertext.end() - tag_size, ciphertext.end(), tag.begin());
    if (!context ||
        EVP_DecryptInit_ex(context.get(), EVP_aes_256_gcm(), nullptr, key.bytes().data(),
                           nonce.data()) != 1 ||
        EVP_DecryptUpdate(context.get(), nullptr, &length, bytes_of(associated_data),
                          static_cast<int>(associated_data.size())) != 1 ||
        EVP_DecryptUpdate(context.get(), out, &length, ciphertext.data(),
                          static_cast<int>(text_size)) != 1 ||
        EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_SET_TAG, tag_size, tag.data()) != 1)
        openssl_failed("decrypting a secret");
    if (EVP_DecryptFinal_ex(context.get(), out + length, &length) != 1) {
        OPENSSL_cleanse(plaintext.data(), plaintext.size());
        return std::nullopt;
    }
    return plaintext;
}

}  // namespace herald::detail::cipher
