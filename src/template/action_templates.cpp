#include "template/action_templates.hpp"
#include "template/variables.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace herald::detail {
namespace {

Template compile_field(std::string_view source, TriggerKind trigger, TemplateFormat format,
                       bool access_token, const EntityFacts& facts, const char* field) {
    return Template::compile(source, {.trigger = trigger,
                                      .format = format,
                                      .access_token = access_token,
                                      .secret_exists = facts.secret_exists,
                                      .field = field});
}

}  // namespace

ActionTemplates compile_action_templates(const Action& action, TriggerKind trigger,
                                         const EntityFacts& facts) {
    ActionTemplates out;
    if (const auto* webhook = action.get_if<action::Webhook>()) {
        out.payload =
            compile_field(payload_source(*webhook, trigger), trigger, TemplateFormat::json,
                          facts.access_token, facts, "action.payload");
    } else if (const auto* slack = action.get_if<action::SlackNotification>()) {
        out.title = compile_field(slack->title, trigger, TemplateFormat::text, false, facts,
                                  "action.title");
        out.message = compile_field(slack->message, trigger, TemplateFormat::text, false, facts,
                                    "action.message");
    } else if (const auto* job = action.get_if<action::LaunchJob>();
               job && !job->override.empty()) {
        // Checked as written, so errors point into the text the user wrote; kept unwrapped.
        compile_field(job->override, trigger, TemplateFormat::json, false, facts,
                      "action.override");
        out.override_value = compile_field(normalize_override(job->override), trigger,
                                           TemplateFormat::json, false, facts, "action.override");
    }
    return out;
}

std::string_view payload_source(const action::Webhook& webhook, TriggerKind trigger) {
    return webhook.payload.empty() ? std::string_view(default_payload(trigger))
                                   : std::string_view(webhook.payload);
}

std::string normalize_override(std::string_view source) {
    boost::system::error_code ec;
    const boost::json::value doc = boost::json::parse(source, ec);
    if (ec || !doc.is_object())
        return std::string(source);
    const boost::json::object& object = doc.get_object();
    if (object.size() != 1)
        return std::string(source);
    const boost::json::value* inner = object.if_contains("override");
    if (!inner || !inner->is_object())
        return std::string(source);
    return boost::json::serialize(*inner);
}

}  // namespace herald::detail
