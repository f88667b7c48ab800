#include <herald/integration.hpp>

#include <algorithm>
#include <array>
#include <cctype>

namespace herald {

const std::string& Integration::entity() const noexcept {
    return std::visit([](const auto& spec) -> const std::string& { return spec.entity; }, spec_);
}

const std::string& Integration::name() const noexcept {
    return std::visit([](const auto& spec) -> const std::string& { return spec.name; }, spec_);
}

bool Integration::enabled() const noexcept {
    return std::visit([](const auto& spec) { return spec.enabled; }, spec_);
}

std::vector<std::string> Integration::secret_names() const {
    std::vector<std::string> names;
    const auto add = [&names](const std::string& name) {
        if (!name.empty())
            names.push_back(name);
    };
    if (const auto* webhook = get_if<WebhookIntegration>()) {
        add(webhook->access_token);
        add(webhook->signing_secret);
    } else if (const auto* slack = get_if<SlackIntegration>()) {
        add(slack->webhook_url_secret);
        add(slack->bot_token);
    }
    return names;
}

bool reserved_header(std::string_view name) noexcept {
    static constexpr std::array<std::string_view, 18> reserved{"authorization",
                                                               "content-type",
                                                               "content-length",
                                                               "transfer-encoding",
                                                               "host",
                                                               "connection",
                                                               "keep-alive",
                                                               "upgrade",
                                                               "te",
                                                               "trailer",
                                                               "expect",
                                                               "proxy-authorization",
                                                               "x-wandb-signature",
                                                               "webhook-id",
                                                               "webhook-timestamp",
                                                               "webhook-signature",
                                                               "x-hub-signature",
                                                               "x-hub-signature-256"};
    const auto lower_equal = [](std::string_view a, std::string_view b) {
        return a.size() == b.size() &&
               std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
                   return std::tolower(static_cast<unsigned char>(x)) == y;
               });
    };
    constexpr std::string_view own_prefix = "x-herald-";
    if (name.size() >= own_prefix.size() &&
        lower_equal(name.substr(0, own_prefix.size()), own_prefix))
        return true;
    return std::any_of(reserved.begin(), reserved.end(),
                       [&](std::string_view r) { return lower_equal(name, r); });
}

std::string_view to_string(IntegrationKind kind) noexcept {
    return kind == IntegrationKind::webhook ? "WEBHOOK" : "SLACK";
}

std::string_view to_string(SignatureScheme scheme) noexcept {
    switch (scheme) {
        case SignatureScheme::wandb:
            return "wandb";
        case SignatureScheme::standard:
            return "standard";
        case SignatureScheme::github:
            return "github";
    }
    return "?";
}

}  // namespace herald
