// `herald dry-run`: what publishing events would do, without recording anything.
#include "cli/context.hpp"
#include "model/validate.hpp"

#include <herald/error.hpp>
#include <herald/event_json.hpp>

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>

#include <string>
#include <vector>

namespace herald::cli {
namespace json = boost::json;
namespace {

/// An error about one event of the input, named by `where` ("line 3", "event 2").
Error about(std::string_view where, const Error& e) {
    return Error(e.code(), std::string(where),
                 (e.field().empty() ? "" : e.field() + ": ") + e.reason());
}

/// `value` read as an event and checked as `publish` checks it.
template <class Json>
Event checked_event(const Json& value) {
    Event event = event_from_json(value);
    detail::validate(event);
    return event;
}

/// The events of `text`: a JSON array of events, one event (which may span lines), or one
/// event per line (blank lines skipped), as `publish` reads them.
std::vector<Event> events_of(const std::string& text) {
    std::vector<Event> events;
    boost::system::error_code ec;
    const json::value whole = json::parse(text, ec);
    if (!ec && whole.is_array()) {
        const json::array& items = whole.as_array();
        for (std::size_t i = 0; i < items.size(); ++i) {
            try {
                events.push_back(checked_event(items[i]));
            } catch (const Error& e) {
                throw about("event " + std::to_string(i + 1), e);
            }
        }
        return events;
    }
    if (!ec && whole.is_object()) {
        events.push_back(checked_event(whole));
        return events;
    }
    std::size_t line_number = 0;
    for (std::size_t start = 0; start < text.size();) {
        std::size_t end = text.find('\n', start);
        if (end == std::string::npos)
            end = text.size();
        const std::string_view line(text.data() + start, end - start);
        start = end + 1;
        ++line_number;
        if (line.find_first_not_of(" \t\r") == std::string_view::npos)
            continue;
        try {
            events.push_back(checked_event(line));
        } catch (const Error& e) {
            throw about("line " + std::to_string(line_number), e);
        }
    }
    return events;
}

json::value verdict_json(const DryRunVerdict& v) {
    json::object o{{"automation_id", v.automation_id},
                   {"automation", v.automation_name},
                   {"outcome", to_string(v.outcome)},
                   {"reason", v.reason}};
    if (v.cooldown_until)
        o["cooldown_until"] = format_rfc3339(*v.cooldown_until);
    if (v.outcome == DryRunOutcome::pending)
        o["pending_evaluations"] = v.pending_evaluations;
    if (v.pending_until)
        o["pending_until"] = format_rfc3339(*v.pending_until);
    if (v.metric) {
        json::array values;
        for (double x : v.metric->metric_values)
            values.push_back(x);
        o["metric"] = {{"name", v.metric->metric_name},
                       {"value", v.metric->metric_value},
                       {"values", std::move(values)},
                       {"condition", v.metric->metric_condition},
                       {"resolved", v.metric->resolved}};
    }
    if (v.outcome == DryRunOutcome::fires) {
        o["payload"] = v.payload;
        if (!v.payload_error.empty())
            o["payload_error"] = v.payload_error;
    }
    return o;
}

void print_event(Context& c, const DryRunEvent& event) {
    if (c.json) {
        json::array automations;
        for (const DryRunVerdict& v : event.automations)
            automations.push_back(verdict_json(v));
        print_json(c.out, json::object{{"event_id", event.event_id},
                                       {"automations", std::move(automations)}});
        return;
    }
    c.out << "event " << event.event_id << '\n';
    if (event.automations.empty()) {
        c.out << "  no automation's scope holds it\n";
        return;
    }
    std::vector<std::vector<std::string>> rows{{"  AUTOMATION", "OUTCOME", "REASON"}};
    for (const DryRunVerdict& v : event.automations)
        rows.push_back({"  " + v.automation_name, std::string(to_string(v.outcome)), v.reason});
    print_table(c.out, rows);
    for (const DryRunVerdict& v : event.automations) {
        if (v.outcome != DryRunOutcome::fires)
            continue;
        if (!v.payload_error.empty())
            c.out << "  " << v.automation_name << " would not send: " << v.payload_error << '\n';
        else if (!v.payload.empty())
            c.out << "  " << v.automation_name << " would send: " << v.payload << '\n';
    }
}

}  // namespace

int dry_run(Context& c) {
    const std::string path = c.args.positionals().empty() ? "-" : c.args.positionals().front();
    // Every event is read and checked before any is evaluated.
    const std::vector<DryRunEvent> results =
        c.recorder().dry_run(events_of(read_input(path, "file")));
    for (const DryRunEvent& event : results)
        print_event(c, event);
    return 0;
}

}  // namespace herald::cli
