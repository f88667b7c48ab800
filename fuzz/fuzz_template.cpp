// Fuzzes template compilation and rendering: the first byte picks the trigger kind and the
// format, the rest is the template source and also the event data it is rendered with.
// Invariants: compiling never crashes; a JSON template that compiles is JSON boost::json accepts;
// its rendering is always valid JSON (valid UTF-8 included), whatever the event holds.
#include <herald/error.hpp>
#include <herald/template.hpp>

#include <boost/json/parse.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

herald::Firing firing_for(herald::TriggerKind kind, std::string_view bytes) {
    const std::string text(bytes);
    herald::ArtifactVersion version{.collection = text, .index = 7, .uri = text};
    version.metadata[text] = text;
    version.metadata["k"] = boost::json::array{text, 1.5, nullptr};
    const herald::Run run{.id = text, .name = text, .user = text};
    herald::Firing f{.automation_name = text,
                     .event = {.id = text, .author = text, .entity = text, .project = text}};
    switch (herald::listens_to(kind)) {
        case herald::EventKind::run_metrics_logged:
            f.event.body = herald::RunMetricsLogged{.run = run};
            f.metric = herald::MetricObservation{.metric_name = text,
                                                 .metric_value = 0.5,
                                                 .metric_values = {1, 2},
                                                 .metric_condition = text};
            break;
        case herald::EventKind::run_state_changed:
            f.event.body = herald::RunStateChanged{.run = run};
            break;
        case herald::EventKind::alias_added:
            f.event.body = herald::AliasAdded{.version = version, .alias = text};
            break;
        case herald::EventKind::tag_added:
            f.event.body = herald::TagAdded{.version = version, .tag = text};
            break;
        default:
            f.event.body = herald::ArtifactCreated{.version = version};
            break;
    }
    return f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0)
        return 0;
    const auto kind = static_cast<herald::TriggerKind>(data[0] % herald::trigger_kind_count);
    const auto format =
        (data[0] & 0x80) != 0 ? herald::TemplateFormat::text : herald::TemplateFormat::json;
    const std::string_view source(reinterpret_cast<const char*>(data + 1), size - 1);
    herald::Template compiled;
    try {
        compiled = herald::Template::compile(
            source, {.trigger = kind, .format = format, .access_token = true});
    } catch (const herald::Error&) {
        return 0;
    }
    const std::string out = compiled.render_masked(firing_for(kind, source));
    if (format == herald::TemplateFormat::json) {
        boost::system::error_code ec;
        boost::json::parse(source, ec);
        if (ec)
            __builtin_trap();  // accepted a template that is not JSON
        boost::json::parse(out, ec);
        if (ec)
            __builtin_trap();  // rendered something that is not JSON
    }
    return 0;
}
