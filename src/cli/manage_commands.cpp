// Commands that manage automations, integrations and secrets.
#include "cli/context.hpp"
#include "util/error_path.hpp"

#include <herald/automation_json.hpp>
#include <herald/error.hpp>
#include <herald/integration_json.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>

namespace herald::cli {
namespace json = boost::json;
namespace {

// An automation already stored that `a` replaces: the one with its id, else the one with its
// name in its scope.
std::optional<Automation> existing(const std::vector<Automation>& stored, const Automation& a) {
    auto it = std::find_if(stored.begin(), stored.end(), [&](const Automation& s) {
        return a.id.empty() ? (s.scope == a.scope && s.name == a.name) : s.id == a.id;
    });
    return it == stored.end() ? std::nullopt : std::optional<Automation>(*it);
}

std::vector<Automation> stored_automations(Context& c) {
    std::vector<Automation> all = c.database().automations().all();
    if (auto entity = c.args.value("entity"))
        std::erase_if(all, [&](const Automation& a) { return a.scope.entity != *entity; });
    std::sort(all.begin(), all.end(), [](const Automation& a, const Automation& b) {
        return std::tie(a.scope.entity, a.scope.project, a.name) <
               std::tie(b.scope.entity, b.scope.project, b.name);
    });
    return all;
}

Automation stored_automation(Context& c, const std::string& id) {
    auto found = c.database().automations().find(id);
    if (!found)
        throw Error(errc::not_found, "id", "no automation with id '" + id + "'");
    return *found;
}

int set_enabled(Context& c, bool enabled) {
    for (const std::string& id : c.args.positionals()) {
        const Automation a = stored_automation(c, id);
        c.engine().automations().set_enabled(c.operator_of(a.scope.entity), id, enabled);
        c.report((enabled ? "enabled " : "disabled ") + a.name + " (" + id + ")",
                 {{"id", id}, {"name", a.name}, {"enabled", enabled}});
    }
    return 0;
}

// --window: how far back the summary counts firings, in whole seconds (the engine's unit).
std::chrono::seconds window_option(const Context& c) {
    const auto window = std::chrono::duration_cast<std::chrono::seconds>(
        parse_duration(c.args.value("window").value_or("24h"), "window"));
    if (window < std::chrono::seconds{1})
        throw UsageError{"automations summary", "--window: expected at least 1s"};
    return window;
}

std::string secret_value(Context& c) {
    std::string value = read_input(c.args.value("file").value_or("-"), "value");
    // `echo value | herald secrets put` and files written by editors end in a newline.
    if (value.ends_with('\n'))
        value.pop_back();
    if (value.ends_with('\r'))
        value.pop_back();
    return value;
}

const std::string& secret_name(Context& c) {
    return c.args.positionals().front();
}

void report_secret(Context& c, const std::string& entity, const char* verb) {
    c.report(std::string(verb) + " secret " + entity + "/" + secret_name(c),
             {{"entity", entity}, {"name", secret_name(c)}, {"result", verb}});
}

}  // namespace

int automations_apply(Context& c) {
    const std::vector<Automation> automations =
        automations_from_json(read_input(c.args.positionals().front(), "file"));
    const std::vector<Automation> stored = c.database().automations().all();
    for (std::size_t index = 0; index < automations.size(); ++index) {
        const Automation& a = automations[index];
        const Principal who = c.operator_of(a.scope.entity);
        const auto old = existing(stored, a);
        const Automation saved = detail::within_element(index, [&] {
            return old ? c.engine().automations().update(who, old->id, a)
                       : c.engine().automations().create(who, a);
        });
        const char* verb = old ? "updated" : "created";
        c.report(verb + (" " + saved.scope.path()) + "/" + saved.name + " (" + saved.id + ")",
                 {{"result", verb}, {"id", saved.id}, {"name", saved.name}});
    }
    return 0;
}

int automations_export(Context& c) {
    json::array all;
    for (const Automation& a : stored_automations(c))
        all.push_back(to_json_value(a));
    if (auto path = c.args.value("output")) {
        std::ofstream file(*path, std::ios::trunc);
        print_json(file, all);
        if (!file)
            throw Error(errc::invalid_argument, "output", "cannot write '" + *path + "'");
    } else {
        print_json(c.out, all);
    }
    return 0;
}

int automations_list(Context& c) {
    const std::vector<Automation> all = stored_automations(c);
    if (c.json) {
        json::array out;
        for (const Automation& a : all)
            out.push_back(to_json_value(a));
        print_json(c.out, out);
        return 0;
    }
    std::vector<std::vector<std::string>> rows{
        {"ID", "SCOPE", "NAME", "TRIGGER", "ACTION", "ENABLED"}};
    for (const Automation& a : all)
        rows.push_back({a.id, a.scope.path(), a.name, std::string(to_string(a.trigger.kind())),
                        std::string(to_string(a.action.kind())), a.enabled ? "yes" : "no"});
    print_table(c.out, rows);
    return 0;
}

int automations_summary(Context& c) {
    const std::string& id = c.args.positionals().front();
    const Automation a = stored_automation(c, id);
    // The tool runs no dispatcher, so the summary has no integration streak to show.
    const AutomationSummary summary =
        c.recorder().automation_summary(c.operator_of(a.scope.entity), id, window_option(c));
    const std::optional<Firing>& last = summary.last_execution;
    if (c.json) {
        json::object counts;
        for (const auto& [status, count] : summary.counts)
            counts[lowercase(to_string(status))] = count;
        print_json(c.out, {{"id", id},
                           {"name", a.name},
                           {"last_execution", last ? firing_json(*last) : json::value()},
                           {"window_start", format_rfc3339(summary.window_start)},
                           {"counts", std::move(counts)}});
        return 0;
    }
    c.out << a.name << " (" << id << ")\n";
    if (last)
        c.out << "last execution: " << last->id << " at " << format_rfc3339(last->time) << ", "
              << to_string(last->status) << ": " << last->reason << '\n';
    else
        c.out << "last execution: none\n";
    c.out << "firings since " << format_rfc3339(summary.window_start) << ":\n";
    std::vector<std::vector<std::string>> rows{{"STATUS", "FIRINGS"}};
    for (const auto& [status, count] : summary.counts)
        rows.push_back({std::string(to_string(status)), std::to_string(count)});
    print_table(c.out, rows);
    return 0;
}

int automations_enable(Context& c) {
    return set_enabled(c, true);
}

int automations_disable(Context& c) {
    return set_enabled(c, false);
}

int automations_delete(Context& c) {
    for (const std::string& id : c.args.positionals()) {
        const Automation a = stored_automation(c, id);
        c.engine().automations().remove(c.operator_of(a.scope.entity), id);
        c.report("deleted " + a.name + " (" + id + ")",
                 {{"id", id}, {"name", a.name}, {"result", "deleted"}});
    }
    return 0;
}

int integrations_apply(Context& c) {
    const std::vector<Integration> integrations =
        integrations_from_json(read_input(c.args.positionals().front(), "file"));
    for (std::size_t index = 0; index < integrations.size(); ++index) {
        const Integration& i = integrations[index];
        const Principal who = c.operator_of(i.entity());
        const bool exists = c.database().integrations().find(i.entity(), i.name()).has_value();
        detail::within_element(index, [&] {
            return exists ? c.engine().integrations().update(who, i)
                          : c.engine().integrations().create(who, i);
        });
        const char* verb = exists ? "updated" : "created";
        c.report(verb + (" " + i.entity()) + "/" + i.name(),
                 {{"result", verb}, {"entity", i.entity()}, {"name", i.name()}});
    }
    return 0;
}

int integrations_list(Context& c) {
    const std::vector<Integration> all =
        c.database().integrations().list(required_option(c, "entity"));
    if (c.json) {
        json::array out;
        for (const Integration& i : all)
            out.push_back(to_json_value(i));
        print_json(c.out, out);
        return 0;
    }
    std::vector<std::vector<std::string>> rows{{"NAME", "KIND", "DESTINATION", "ENABLED"}};
    for (const Integration& i : all) {
        std::string destination;
        if (const auto* w = i.get_if<WebhookIntegration>())
            destination = w->url;
        else if (const auto* s = i.get_if<SlackIntegration>())
            destination = s->bot_token.empty()
                              ? "incoming webhook (secret " + s->webhook_url_secret + ")"
                              : s->channel + " via " + s->api_base_url;
        rows.push_back(
            {i.name(), std::string(to_string(i.kind())), destination, i.enabled() ? "yes" : "no"});
    }
    print_table(c.out, rows);
    return 0;
}

int integrations_delete(Context& c) {
    const std::string entity = required_option(c, "entity");
    for (const std::string& name : c.args.positionals()) {
        c.engine().integrations().remove(c.operator_of(entity), entity, name, c.args.flag("force"));
        c.report("deleted " + entity + "/" + name,
                 {{"entity", entity}, {"name", name}, {"result", "deleted"}});
    }
    return 0;
}

int secrets_put(Context& c) {
    const std::string entity = required_option(c, "entity");
    c.engine().secrets().put(c.operator_of(entity), entity, secret_name(c), secret_value(c));
    report_secret(c, entity, "stored");
    return 0;
}

int secrets_rotate(Context& c) {
    const std::string entity = required_option(c, "entity");
    const auto keep = parse_duration(c.args.value("keep-previous").value_or("0s"), "keep-previous");
    c.engine().secrets().rotate(c.operator_of(entity), entity, secret_name(c), secret_value(c),
                                std::chrono::duration_cast<std::chrono::seconds>(keep));
    report_secret(c, entity, "rotated");
    return 0;
}

int secrets_delete(Context& c) {
    const std::string entity = required_option(c, "entity");
    c.engine().secrets().remove(c.operator_of(entity), entity, secret_name(c),
                                c.args.flag("force"));
    report_secret(c, entity, "deleted");
    return 0;
}

int secrets_list(Context& c) {
    const std::string entity = required_option(c, "entity");
    const std::vector<std::string> names = c.engine().secrets().list(c.operator_of(entity), entity);
    if (c.json) {
        json::array out;
        for (const std::string& n : names)
            out.emplace_back(n);
        print_json(c.out, out);
        return 0;
    }
    for (const std::string& n : names)
        c.out << n << '\n';
    return 0;
}

int secrets_rotate_key(Context& c) {
    const std::size_t count = c.rotate_secret_key();
    c.report("re-encrypted " + std::to_string(count) + " secret value(s) under the current key",
             {{"reencrypted", count}});
    return 0;
}

}  // namespace herald::cli
