// delivery/signature.hpp — the wandb, standard and github webhook signatures, as pure functions.
//
// clang-format off
//     auto sig = wandb_signature(body, secret);                 // X-Wandb-Signature value
//     auto gh  = github_signature(body, secret);                // X-Hub-Signature-256 value
//     auto key = decode_standard_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
//     auto sw  = standard_signature(delivery_id, unix_seconds, body, {*key});  // webhook-signature
// clang-format on
//
// The functions never log or copy secrets anywhere but the returned signature.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace herald::detail {

/// base64(HMAC-SHA256(body, secret)) — exactly
/// `printf '%s' "$PAYLOAD" | openssl dgst -sha256 -hmac "$SECRET" -binary | base64`.
std::string wandb_signature(std::string_view body, std::string_view secret);

/// "sha256=" + lower-case hex HMAC-SHA256(body, secret), GitHub's X-Hub-Signature-256.
std::string github_signature(std::string_view body, std::string_view secret);

/// The key bytes of a Standard Webhooks secret: base64 after an optional `whsec_` prefix.
/// nullopt when the text is not valid base64 or decodes to nothing.
std::optional<std::string> decode_standard_secret(std::string_view secret);

/// Standard Webhooks v1 `webhook-signature` value: "v1,<base64 HMAC-SHA256(id.timestamp.body)>"
/// for each key (decoded, see decode_standard_secret), space-separated — several while a key is
/// being rotated. `timestamp` is Unix seconds, the value of `webhook-timestamp`.
std::string standard_signature(std::string_view id, std::int64_t timestamp, std::string_view body,
                               const std::vector<std::string>& keys);

}  // namespace herald::detail
