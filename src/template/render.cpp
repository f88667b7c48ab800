// Template rendering: one pass over the compiled pieces, values written straight from the
// firing into the output (no intermediate strings for the common variables).
#include "json/json_text.hpp"
#include "template/compiled_template.hpp"

#include <herald/template.hpp>

#include <charconv>

namespace herald {
namespace detail {
namespace {

const ArtifactVersion* artifact_of(const Firing& firing) noexcept {
    return firing.event.artifact();
}

const boost::json::value* metadata_value(const Firing& firing, std::string_view key) noexcept {
    const ArtifactVersion* version = artifact_of(firing);
    return version ? version->metadata.if_contains(key) : nullptr;
}

std::string_view alias_of(const Event& event) noexcept {
    if (const auto* added = std::get_if<AliasAdded>(&event.body))
        return added->alias;
    if (const auto* removed = std::get_if<AliasRemoved>(&event.body))
        return removed->alias;
    return {};
}

std::string_view tag_of(const Event& event) noexcept {
    if (const auto* added = std::get_if<TagAdded>(&event.body))
        return added->tag;
    if (const auto* removed = std::get_if<TagRemoved>(&event.body))
        return removed->tag;
    return {};
}

template <class Emit>
void emit_integer(std::int64_t value, Emit& emit) {
    char buffer[24];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    emit(std::string_view(buffer, static_cast<std::size_t>(result.ptr - buffer)));
}

/// A structured value for a whole-string substitution; null members mean "not structured".
struct Structured {
    const boost::json::value* json = nullptr;
    const boost::json::object* object = nullptr;
    const std::vector<double>* numbers = nullptr;

    explicit operator bool() const noexcept { return json || object || numbers; }
};

Structured structured_value(const CompiledTemplate& t, const Piece& piece, const Firing& firing) {
    switch (piece.variable) {
        case Variable::artifact_metadata:
            if (const ArtifactVersion* version = artifact_of(firing))
                return {.object = &version->metadata};
            return {};
        case Variable::artifact_metadata_key:
            if (const auto* v = metadata_value(firing, t.slice(piece));
                v && (v->is_object() || v->is_array()))
                return {.json = v};
            return {};
        case Variable::metric_values:
            if (firing.metric)
                return {.numbers = &firing.metric->metric_values};
            return {};
        default:
            return {};
    }
}

void append_structured(std::string& out, const Structured& value) {
    if (value.json)
        append_json(out, *value.json);
    else if (value.object)
        append_json(out, boost::json::value(*value.object));
    else
        append_json(out, *value.numbers);
}

/// Calls `emit(std::string_view)` with the pieces of the variable's value as text; nothing
/// when it does not apply to the event. `secrets` is null for the masked rendering.
template <class Emit>
void emit_value(const CompiledTemplate& t, const Piece& piece, const Firing& firing,
                SecretResolver* secrets, Emit&& emit) {
    const Event& event = firing.event;
    const ArtifactVersion* version = artifact_of(firing);
    const Run* run = event.run();
    const auto* metric = firing.metric ? &*firing.metric : nullptr;
    switch (piece.variable) {
        case Variable::event_type:
            return emit(to_string(t.trigger));
        case Variable::event_author:
            return emit(event.author);
        case Variable::entity_name:
            return emit(event.entity);
        case Variable::project_name:
            return emit(event.project);
        case Variable::automation_name:
            return emit(firing.automation_name);
        case Variable::event_id:
            return emit(event.id);
        case Variable::event_time:
            return emit(format_rfc3339(event.time));
        case Variable::artifact_collection_name:
            if (version)
                emit(version->collection);
            return;
        case Variable::artifact_version:
            if (version)
                emit(version->uri);
            return;
        case Variable::artifact_version_string:
            if (version) {
                emit(event.entity);
                emit("/");
                emit(event.project);
                emit("/");
                emit(version->collection);
                emit(":");
                if (const std::string_view alias = alias_of(event); !alias.empty()) {
                    emit(alias);
                } else {
                    emit("v");
                    emit_integer(version->index, emit);
                }
            }
            return;
        case Variable::artifact_version_index:
            if (version)
                emit_integer(version->index, emit);
            return;
        case Variable::artifact_metadata:
        case Variable::artifact_metadata_key: {
            const boost::json::value* v = nullptr;
            boost::json::value whole;
            if (piece.variable == Variable::artifact_metadata_key) {
                v = metadata_value(firing, t.slice(piece));
            } else if (version) {
                whole = version->metadata;
                v = &whole;
            }
            if (!v)
                return;
            if (v->is_string())
                return emit(std::string_view(v->get_string()));
            std::string json;
            append_json(json, *v);
            return emit(json);
        }
        case Variable::alias:
            return emit(alias_of(event));
        case Variable::tag:
            return emit(tag_of(event));
        case Variable::run_id:
            if (run)
                emit(run->id);
            return;
        case Variable::run_name:
            if (run)
                emit(run->name);
            return;
        case Variable::run_user:
            if (run)
                emit(run->user);
            return;
        case Variable::run_status:
            if (const auto* changed = std::get_if<RunStateChanged>(&event.body))
                emit(to_string(changed->state));
            return;
        case Variable::metric_name:
            if (metric)
                emit(metric->metric_name);
            return;
        case Variable::metric_value:
            if (metric) {
                std::string number;
                append_number(number, metric->metric_value);
                emit(number);
            }
            return;
        case Variable::metric_values:
            if (metric) {
                std::string json;
                append_json(json, metric->metric_values);
                emit(json);
            }
            return;
        case Variable::metric_condition:
            if (metric)
                emit(metric->metric_condition);
            return;
        case Variable::metric_state:
            if (metric)
                emit(metric->resolved ? "RESOLVED" : "FIRING");
            return;
        case Variable::access_token:
            return emit(secrets ? secrets->value("ACCESS_TOKEN").reveal() : masked_secret);
        case Variable::secret:
            return emit(secrets ? secrets->value(t.slice(piece)).reveal() : masked_secret);
    }
}

void render_pieces(const CompiledTemplate& t, const Firing& firing, SecretResolver* secrets,
                   std::string& out) {
    out.reserve(out.size() + t.literal_size + 32 * t.pieces.size());
    const auto escaped = [&out](std::string_view s) { append_json_escaped(out, s); };
    for (const Piece& piece : t.pieces) {
        switch (piece.kind) {
            case Piece::Kind::literal:
                out.append(t.text.data() + piece.offset, piece.size);
                break;
            case Piece::Kind::json_string:
                emit_value(t, piece, firing, secrets, escaped);
                break;
            case Piece::Kind::json_value:
                if (const Structured value = structured_value(t, piece, firing)) {
                    append_structured(out, value);
                } else {
                    out += '"';
                    emit_value(t, piece, firing, secrets, escaped);
                    out += '"';
                }
                break;
            case Piece::Kind::text:
                emit_value(t, piece, firing, secrets,
                           [&out](std::string_view s) { append_valid_utf8(out, s); });
                break;
        }
    }
}

const CompiledTemplate& empty_template() {
    static const CompiledTemplate empty;
    return empty;
}

}  // namespace
}  // namespace detail

namespace {
const detail::CompiledTemplate& compiled_or_empty(
    const std::shared_ptr<const detail::CompiledTemplate>& compiled) {
    return compiled ? *compiled : detail::empty_template();
}
}  // namespace

TriggerKind Template::trigger() const noexcept {
    return compiled_or_empty(compiled_).trigger;
}
TemplateFormat Template::format() const noexcept {
    return compiled_or_empty(compiled_).format;
}
const std::vector<std::string>& Template::secrets() const noexcept {
    return compiled_or_empty(compiled_).secrets;
}
bool Template::uses_access_token() const noexcept {
    return compiled_or_empty(compiled_).access_token;
}

void Template::render(const Firing& firing, SecretResolver& secrets, std::string& out) const {
    detail::render_pieces(compiled_or_empty(compiled_), firing, &secrets, out);
}
std::string Template::render(const Firing& firing, SecretResolver& secrets) const {
    std::string out;
    render(firing, secrets, out);
    return out;
}
void Template::render_masked(const Firing& firing, std::string& out) const {
    detail::render_pieces(compiled_or_empty(compiled_), firing, nullptr, out);
}
std::string Template::render_masked(const Firing& firing) const {
    std::string out;
    render_masked(firing, out);
    return out;
}

}  // namespace herald
