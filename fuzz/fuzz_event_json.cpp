// Fuzzes the event JSON format, which `herald publish` reads from pipes and storage reads back
// for every firing: the input is one event document. Invariants: reading never crashes and
// refuses bad input only with herald::Error; what was read writes as text that reads back as
// the same event (doc/formats.md: equal, once non-finite metadata numbers are written as null,
// with a "NaN" metric equal to a "NaN" metric) and writes again as the same text; a field herald
// does not know, added to the event's object or to its version or run, is refused by name.
#include <herald/error.hpp>
#include <herald/event_json.hpp>

#include <boost/json/value.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <variant>

namespace {

namespace json = boost::json;

[[noreturn]] void disagree(const char* what) {
    std::fprintf(stderr, "fuzz_event_json: %s\n", what);
    __builtin_trap();
}

// `value` as JSON text can hold it: a non-finite number becomes null.
void make_finite(json::value& value) {
    if (value.is_double() && !std::isfinite(value.get_double()))
        value = nullptr;
    else if (value.is_array())
        for (auto& item : value.get_array())
            make_finite(item);
    else if (value.is_object())
        for (auto& item : value.get_object())
            make_finite(item.value());
}

// `event` as it is expected to read back: metadata as JSON text holds it, and each NaN metric
// made 0 (NaN is not equal to itself, yet reads back as NaN).
herald::Event expected_back(herald::Event event) {
    std::visit(
        [](auto& body) {
            if constexpr (requires { body.version.metadata; }) {
                for (auto& item : body.version.metadata)
                    make_finite(item.value());
            } else if constexpr (requires { body.metrics; }) {
                for (auto& metric : body.metrics)
                    if (std::isnan(metric.value))
                        metric.value = 0;
            }
        },
        event.body);
    return event;
}

// The metrics of a metrics event, NaN values made 0 as in `expected_back`, so that a NaN that
// reads back as a number is still caught.
bool same_nan_metrics(const herald::Event& ours, const herald::Event& back) {
    const auto* a = std::get_if<herald::RunMetricsLogged>(&ours.body);
    const auto* b = std::get_if<herald::RunMetricsLogged>(&back.body);
    if (!a || !b)
        return true;
    if (a->metrics.size() != b->metrics.size())
        return false;
    for (std::size_t i = 0; i < a->metrics.size(); ++i)
        if (std::isnan(a->metrics[i].value) != std::isnan(b->metrics[i].value))
            return false;
    return true;
}

// An unknown field added at `path` ("" for the event's own object) is refused, naming it.
void check_unknown_field(const herald::Event& event, std::string_view path) {
    json::value value = herald::to_json_value(event);
    json::object* object = &value.get_object();
    if (!path.empty()) {
        json::value* inner = object->if_contains(path);
        if (!inner || !inner->is_object())
            return;
        object = &inner->get_object();
    }
    object->emplace("x_unknown", 1);
    const std::string field = path.empty() ? "x_unknown" : std::string(path) + ".x_unknown";
    try {
        (void)herald::event_from_json(value);
    } catch (const herald::Error& e) {
        if (e.field() != field)
            disagree("an unknown field refused under another name");
        return;
    }
    disagree("an unknown field accepted");
}

void check(std::string_view text) {
    herald::Event event;
    try {
        event = herald::event_from_json(text);
    } catch (const herald::Error&) {
        return;
    }
    const std::string written = herald::to_json(event);
    herald::Event back;
    try {
        back = herald::event_from_json(written);
    } catch (const herald::Error&) {
        disagree("an event herald accepted is written as text it refuses");
    }
    if (!(expected_back(back) == expected_back(event)) || !same_nan_metrics(event, back))
        disagree("what was written reads back as another event");
    if (herald::to_json(back) != written)
        disagree("what was read back is written as other text");
    check_unknown_field(event, "");
    check_unknown_field(event, "version");
    check_unknown_field(event, "source");
    check_unknown_field(event, "run");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    check(std::string_view(reinterpret_cast<const char*>(data), size));
    return 0;
}
