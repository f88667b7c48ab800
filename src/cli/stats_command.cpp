// herald stats: what a database holds, for an operator or a metrics scraper.
#include "cli/context.hpp"

#include <herald/metrics.hpp>

#include <boost/json/object.hpp>

namespace herald::cli {

int stats(Context& c) {
    // The engine's figures of the store (the outbox's depth), and the history's counts.
    MetricsSnapshot snapshot = c.recorder().metrics();
    std::erase_if(snapshot.families,
                  [](const MetricFamily& f) { return f.name != "herald_outbox_deliveries"; });
    MetricFamily firings{.name = "herald_firings",
                         .help = "Firings the history holds, by status.",
                         .type = MetricType::gauge};
    for (const auto& [status, count] : c.database().history().count_firings())
        firings.samples.push_back({.labels = {{"status", lowercase(to_string(status))}},
                                   .value = static_cast<double>(count)});
    snapshot.families.push_back(std::move(firings));

    if (c.args.flag("prometheus")) {
        c.out << write_prometheus(snapshot);
        return 0;
    }
    std::vector<std::vector<std::string>> rows{{"FIGURE", "LABEL", "VALUE"}};
    boost::json::object result;
    for (const MetricFamily& f : snapshot.families) {
        const std::string name = f.name == "herald_firings" ? "firings" : "deliveries";
        boost::json::object& group = result[name].emplace_object();
        for (const MetricSample& s : f.samples) {
            const auto value = static_cast<std::int64_t>(s.value);
            const std::string& label = s.labels.front().value;
            group[label] = value;
            rows.push_back({name, label, std::to_string(value)});
        }
    }
    if (c.json)
        print_json(c.out, result);
    else
        print_table(c.out, rows);
    return 0;
}

}  // namespace herald::cli
