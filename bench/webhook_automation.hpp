// What the delivery benchmarks deliver: one signed webhook automation, firing on alias
// `production` in acme/reg, whose integration points at a sink's URL; and the event that fires
// it.
#pragma once

#include <herald/engine.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

namespace herald::bench {

inline const Principal admin{.user = "admin", .roles = {Role::entity_admin("acme")}};

inline void add_webhook_automation(Engine& engine, const std::string& url) {
    engine.secrets().put(admin, "acme", "SIGNING_KEY", "bench-signing-key");
    engine.integrations().create(
        admin, WebhookIntegration{
                   .entity = "acme", .name = "sink", .url = url, .signing_secret = "SIGNING_KEY"});
    engine.automations().create(
        admin,
        Automation{.name = "deploy",
                   .scope = Scope::for_project("acme", "reg"),
                   .trigger = trigger::AddArtifactAlias{.alias = Pattern{"production"}},
                   .action = action::Webhook{
                       .integration = "sink",
                       .payload = R"({"event_type": "${event_type}", "author": "${event_author}",
                               "version": "${artifact_version_string}", "alias": "${alias}"})"}});
}

/// Alias `production` added to version clf:v`i` in acme/reg.
inline Event alias_event(std::size_t i) {
    return {
        .author = "grace",
        .entity = "acme",
        .project = "reg",
        .body = AliasAdded{.version = {.collection = "clf", .index = static_cast<std::int64_t>(i)},
                           .alias = "production"}};
}

}  // namespace herald::bench
