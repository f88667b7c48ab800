// herald/template.hpp — payload templates: compiled once, rendered per firing.
//
// A JSON template is a JSON document whose strings may contain `${name}`. Rendering replaces
// each with the value escaped for a JSON string, so no event data can break the document or add
// keys; a string that is exactly "${name}" whose value is structured (an object or array, e.g.
// `${artifact_metadata}` or `${metric_values}`) becomes that JSON value. A text template (Slack
// title and message) is plain text with the same variables but no secrets: what it renders is
// posted where people read it.
//
// clang-format off
//     herald::Template t = herald::Template::compile(
//         R"({"event": "${event_type}", "by": "${event_author}", "token": "${GH_TOKEN}"})",
//         {.trigger = herald::TriggerKind::add_artifact_alias, .field = "action.payload"});
//     herald::SecretResolver secrets{store, "acme", clock.now()};
//     std::string body = t.render(firing, secrets);      // what is sent
//     std::string shown = t.render_masked(firing);       // secrets as "********", for history
// clang-format on
//
// Variables: event_type (the trigger kind the template was compiled for), event_author,
// entity_name, project_name, automation_name, event_id, event_time (RFC 3339); on artifact triggers
// artifact_collection_name, artifact_version (the URI), artifact_version_string
// (<entity>/<project>/<collection>:<alias> on alias events, :vN otherwise), artifact_version_index,
// artifact_metadata (the whole object), artifact_metadata.<KEY> (a top-level key); alias
// (ADD_ARTIFACT_ALIAS); tag (ADD/REMOVE_ARTIFACT_TAG); on run triggers run_id, run_name, run_user;
// run_status (RUN_STATE); on run metric triggers metric_name, metric_value, metric_values,
// metric_condition. `${ACCESS_TOKEN}` is the webhook integration's access token; any other name of
// letters, digits and `_` is a secret of the automation's entity. A variable that does not apply to
// the event renders as "".
#pragma once

#include <herald/firing.hpp>
#include <herald/secret_store.hpp>
#include <herald/trigger.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace herald {

namespace detail {
struct CompiledTemplate;
}

enum class TemplateFormat {
    json,  ///< a JSON document (webhook payloads, launch-job overrides)
    text,  ///< plain text (Slack titles and messages); secrets are refused
};

/// What a template may use, checked by `Template::compile`.
struct TemplateRules {
    TriggerKind trigger = TriggerKind::create_artifact;  ///< decides which variables can apply
    TemplateFormat format = TemplateFormat::json;
    bool access_token = false;  ///< whether `${ACCESS_TOKEN}` is available
    /// Whether the automation's entity has a secret of this name; when empty, every name that
    /// is not a variable counts as a secret.
    std::function<bool(std::string_view)> secret_exists;
    std::string field = "template";  ///< names the template in errors, e.g. "action.payload"
};

/// A compiled template. Immutable; cheap to copy (copies share the compiled form);
/// thread-safe to render from many threads. A default-constructed template renders nothing.
class Template {
  public:
    Template() = default;

    /// Parses and checks `source`. Throws herald::Error (invalid_json for a malformed JSON
    /// template, invalid_argument otherwise) whose field is `rules.field` and whose reason
    /// names the variable and its place (line, column and byte offset in `source`).
    static Template compile(std::string_view source, const TemplateRules& rules);

    TriggerKind trigger() const noexcept;
    TemplateFormat format() const noexcept;
    /// The entity secrets the template refers to (not ACCESS_TOKEN), sorted, unique.
    const std::vector<std::string>& secrets() const noexcept;
    bool uses_access_token() const noexcept;
    bool references_secrets() const noexcept { return uses_access_token() || !secrets().empty(); }

    /// Appends the rendering for `firing` to `out`, reading secrets through `secrets`
    /// (throws what `SecretResolver::value` throws). The result holds secret values: send it,
    /// never store or log it.
    void render(const Firing& firing, SecretResolver& secrets, std::string& out) const;
    std::string render(const Firing& firing, SecretResolver& secrets) const;
    /// The rendering with every secret shown as `masked_secret`; reads no secret at all.
    void render_masked(const Firing& firing, std::string& out) const;
    std::string render_masked(const Firing& firing) const;

  private:
    std::shared_ptr<const detail::CompiledTemplate> compiled_;
};

}  // namespace herald
