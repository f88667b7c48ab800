// Building the HTTP requests herald sends: the headers of every attempt (delivery id, attempt
// number, fresh timestamp and signature, bearer token) and Slack's Block Kit messages. Plain
// functions over values, so they are tested without a network.
#pragma once

#include "delivery/http_client.hpp"

#include <herald/action.hpp>
#include <herald/clock.hpp>
#include <herald/firing.hpp>
#include <herald/integration.hpp>
#include <herald/secret_store.hpp>

#include <string>
#include <string_view>

namespace herald::detail {

/// Names of the headers herald adds to every webhook attempt.
inline constexpr std::string_view delivery_id_header = "X-Herald-Delivery";
inline constexpr std::string_view attempt_header = "X-Herald-Attempt";
inline constexpr std::string_view timestamp_header = "X-Herald-Timestamp";

/// `text` cut to at most `limit` bytes without splitting a UTF-8 sequence.
std::string_view cut_utf8(std::string_view text, std::size_t limit) noexcept;

/// Which attempt of which delivery a request is.
struct AttemptInfo {
    std::string_view delivery_id;
    int number = 1;
    Timestamp now{};
};

/// The POST to a webhook integration carrying `body` (already rendered): Content-Type, the
/// delivery headers, `Authorization: Bearer` when the integration has an access token, the
/// signature of its scheme when it has a signing secret, and its extra headers. Secrets are
/// read through `secrets`; throws herald::Error (not_found naming a missing secret,
/// invalid_argument for a malformed URL or Standard Webhooks secret).
HttpRequest webhook_request(const WebhookIntegration& integration, std::string body,
                            const AttemptInfo& attempt, SecretResolver& secrets);

/// The Block Kit message for a Slack notification; `title` and `message` are the rendered
/// templates, `link` the host's URL for the object (may be empty), `channel` set for
/// `chat.postMessage`.
std::string slack_message(const action::SlackNotification& action, const Firing& firing,
                          std::string_view title, std::string_view message, std::string_view link,
                          std::string_view channel);

/// The POST to Slack carrying `body`: to the incoming-webhook URL (a secret) or to
/// `<api_base_url>/chat.postMessage` with the bot token; with the delivery headers.
HttpRequest slack_request(const SlackIntegration& integration, std::string body,
                          const AttemptInfo& attempt, SecretResolver& secrets);

/// What a Slack Web API reply means: empty when it is `{"ok": true, ...}` (or not JSON, as
/// incoming webhooks answer "ok"); otherwise its `error` ("channel_not_found").
std::string slack_api_error(std::string_view body);
/// Whether a Slack API error is worth retrying (rate limits, Slack's own failures).
bool slack_error_is_transient(std::string_view error) noexcept;

}  // namespace herald::detail
