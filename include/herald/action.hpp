// herald/action.hpp — what an automation does when it fires.
//
// clang-format off
//     herald::Action a = herald::action::Webhook{
//         .integration = "deploy",
//         .payload = R"({"event_type": "${event_type}",
//                        "version": "${artifact_version_string}"})"};
// clang-format on
//
// Payloads, Slack titles and messages and launch-job overrides are templates (template.hpp).
#pragma once

#include <string>
#include <string_view>
#include <variant>

namespace herald {

enum class ActionKind { none, webhook, slack, launch_job };
enum class Severity { info, warn, error };

namespace action {

/// Records that the automation fired, nothing else (for testing rules).
struct None {
    friend bool operator==(const None&, const None&) = default;
};
/// An HTTP(S) POST through a webhook integration of the automation's entity.
struct Webhook {
    std::string integration;  ///< name of the webhook integration
    /// JSON payload template; empty: the default body, one member per variable that applies
    /// to the trigger (doc/templates.md)
    std::string payload;
    friend bool operator==(const Webhook&, const Webhook&) = default;
};
/// A Slack message through a Slack integration of the automation's entity.
struct SlackNotification {
    std::string integration;
    std::string title;    ///< template
    std::string message;  ///< template
    Severity severity = Severity::info;
    friend bool operator==(const SlackNotification&, const SlackNotification&) = default;
};
/// A job handed to the host's job queue.
struct LaunchJob {
    std::string queue;
    std::string job;
    std::string job_version;
    std::string project;   ///< destination project
    std::string override;  ///< JSON template: {"override": {...}} or a bare object; may be empty
    friend bool operator==(const LaunchJob&, const LaunchJob&) = default;
};

}  // namespace action

/// One action of any kind. Value type; thread-compatible.
class Action {
  public:
    using Variant =
        std::variant<action::None, action::Webhook, action::SlackNotification, action::LaunchJob>;

    Action() = default;
    template <class T>
    requires std::is_constructible_v<Variant, T&&> Action(T&& spec)
        : spec_(std::forward<T>(spec)) {}

    ActionKind kind() const noexcept { return static_cast<ActionKind>(spec_.index()); }
    const Variant& spec() const noexcept { return spec_; }
    template <class T>
    const T* get_if() const noexcept {
        return std::get_if<T>(&spec_);
    }

    friend bool operator==(const Action&, const Action&) = default;

  private:
    Variant spec_;
};

std::string_view to_string(ActionKind kind) noexcept;    ///< "NO_ACTION", "WEBHOOK", ...
std::string_view to_string(Severity severity) noexcept;  ///< "INFO", "WARN", "ERROR"

}  // namespace herald
