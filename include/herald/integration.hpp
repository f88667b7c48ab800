// herald/integration.hpp — where an entity's actions are delivered.
//
// An integration belongs to an entity and is created by an entity admin; automations of that
// entity refer to it by name. It holds no secret values, only the names of the entity's secrets
// (see secret_store.hpp):
//
// clang-format off
//     herald::WebhookIntegration deploy{.entity = "acme", .name = "deploy",
//                                       .url = "https://api.github.com/repos/acme/ml/dispatches",
//                                       .access_token = "GH_TOKEN",
//                                       .signature = herald::SignatureScheme::github,
//                                       .signing_secret = "GH_WEBHOOK_KEY"};
//     engine.integrations().create(admin, deploy);
//
//     herald::SlackIntegration alerts{.entity = "acme", .name = "ml alerts",
//                                     .bot_token = "SLACK_BOT_TOKEN", .channel = "#ml-alerts"};
// clang-format on
//
// `IntegrationManager` (integration_manager.hpp) checks every field; the rules are documented
// on the fields.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace herald {

enum class IntegrationKind { webhook, slack };

/// How a webhook request is signed.
enum class SignatureScheme {
    wandb,     ///< X-Wandb-Signature: base64(HMAC-SHA256(body, secret))
    standard,  ///< Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature
    github,    ///< X-Hub-Signature-256: sha256=<hex>
};

/// An extra request header of a webhook integration (a literal value, not a template).
struct HttpHeaderField {
    std::string name;
    std::string value;
    friend bool operator==(const HttpHeaderField&, const HttpHeaderField&) = default;
};

/// An HTTP(S) endpoint that receives POSTed JSON payloads. Value type; thread-compatible.
struct WebhookIntegration {
    std::string entity;
    /// 1..64 characters: words (letters, digits, `_`), `-` and single spaces between them;
    /// unique among the entity's integrations of every kind.
    std::string name;
    std::string url;  ///< absolute http:// or https:// URL with a host and no user info
    /// Name of the entity secret sent as `Authorization: Bearer <value>` and available to
    /// payload templates as `${ACCESS_TOKEN}`; empty for none.
    std::string access_token;
    SignatureScheme signature = SignatureScheme::wandb;
    std::string signing_secret;  ///< name of the entity secret that signs requests; empty: unsigned
    /// Sent with every request. Names must be HTTP tokens and values free of control
    /// characters; headers herald sets itself (Authorization, Content-Type, Content-Length,
    /// Host, the signature headers, X-Herald-*) are refused (see `reserved_header`).
    std::vector<HttpHeaderField> headers;
    bool enabled = true;  ///< a disabled integration delivers nothing (its firings fail)

    friend bool operator==(const WebhookIntegration&, const WebhookIntegration&) = default;
};

/// A Slack destination: an incoming-webhook URL (kept as a secret, since the URL is the
/// credential), or a bot token and a channel for `chat.postMessage`. Exactly one of
/// `webhook_url_secret` and `bot_token` is set. Value type; thread-compatible.
struct SlackIntegration {
    std::string entity;
    std::string name;                ///< as `WebhookIntegration::name`
    std::string webhook_url_secret;  ///< name of the secret holding the incoming-webhook URL
    std::string bot_token;           ///< name of the secret holding the bot token
    std::string channel;             ///< channel id or `#name`; required with a bot token
    std::string api_base_url = "https://slack.com/api";  ///< where `chat.postMessage` is called
    bool enabled = true;

    friend bool operator==(const SlackIntegration&, const SlackIntegration&) = default;
};

/// An integration of any kind. Value type; thread-compatible.
class Integration {
  public:
    using Variant = std::variant<WebhookIntegration, SlackIntegration>;

    Integration() = default;
    template <class T>
    requires std::is_constructible_v<Variant, T&&> Integration(T&& spec)
        : spec_(std::forward<T>(spec)) {}

    IntegrationKind kind() const noexcept { return static_cast<IntegrationKind>(spec_.index()); }
    const Variant& spec() const noexcept { return spec_; }
    template <class T>
    const T* get_if() const noexcept {
        return std::get_if<T>(&spec_);
    }
    const std::string& entity() const noexcept;
    const std::string& name() const noexcept;
    bool enabled() const noexcept;
    /// The names of the entity secrets this integration uses, in field order.
    std::vector<std::string> secret_names() const;

    friend bool operator==(const Integration&, const Integration&) = default;

  private:
    Variant spec_;
};

inline constexpr std::size_t max_integration_name_length = 64;

/// Whether herald sets header `name` itself, so an integration may not (case-insensitive).
bool reserved_header(std::string_view name) noexcept;

std::string_view to_string(IntegrationKind kind) noexcept;    ///< "WEBHOOK", "SLACK"
std::string_view to_string(SignatureScheme scheme) noexcept;  ///< "wandb", "standard", "github"

}  // namespace herald
