// Commands that publish events, deliver, replay, test webhooks and read the history.
#include "cli/context.hpp"
#include "cli/publish_pipeline.hpp"

#include <herald/error.hpp>
#include <herald/event_json.hpp>

#include <boost/json/array.hpp>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <iostream>

namespace herald::cli {
namespace json = boost::json;
namespace {

constexpr FiringStatus all_statuses[] = {FiringStatus::pending, FiringStatus::finished,
                                         FiringStatus::failed, FiringStatus::skipped,
                                         FiringStatus::dead};

std::optional<FiringStatus> status_filter(const Context& c) {
    auto text = c.args.value("status");
    if (!text)
        return std::nullopt;
    for (FiringStatus s : all_statuses)
        if (lowercase(to_string(s)) == lowercase(*text))
            return s;
    throw UsageError{"history", "--status: expected pending, finished, failed, skipped or dead"};
}

std::optional<Timestamp> time_option(const Context& c, std::string_view name) {
    auto text = c.args.value(name);
    if (!text)
        return std::nullopt;
    auto t = parse_rfc3339(*text);
    if (!t)
        throw UsageError{"history", "--" + std::string(name) +
                                        ": expected an RFC 3339 time such as 2026-11-22T12:00:00Z"};
    return t;
}

std::size_t limit_option(const Context& c, std::size_t fallback) {
    auto text = c.args.value("limit");
    if (!text)
        return fallback;
    try {
        return std::stoul(*text);
    } catch (const std::exception&) {
        throw UsageError{"", "--limit: expected a number"};
    }
}

std::string last_outcome(const Firing& f) {
    if (f.attempts.empty())
        return "-";
    const DeliveryAttempt& a = f.attempts.back();
    return a.error.empty() ? "HTTP " + std::to_string(a.status_code) : a.error;
}

void print_firings(Context& c, const std::vector<Firing>& firings) {
    if (c.json) {
        json::array out;
        for (const Firing& f : firings)
            out.push_back(firing_json(f));
        print_json(c.out, out);
        return;
    }
    std::vector<std::vector<std::string>> rows{
        {"TIME", "DELIVERY", "AUTOMATION", "STATUS", "ATTEMPTS", "LAST", "REASON"}};
    for (const Firing& f : firings)
        rows.push_back({format_rfc3339(f.time), f.id, f.automation_name,
                        std::string(to_string(f.status)), std::to_string(f.attempts.size()),
                        last_outcome(f), f.reason});
    print_table(c.out, rows);
}

// The firings with these ids as the history has them now.
std::vector<Firing> current(Context& c, const std::vector<std::string>& ids) {
    std::vector<Firing> out;
    for (const std::string& id : ids)
        if (auto f = c.database().history().find(id))
            out.push_back(std::move(*f));
    return out;
}

void report_delivery(Context& c, const std::vector<std::string>& ids) {
    const std::size_t pending = c.deliver_until_idle();
    const std::vector<Firing> firings = current(c, ids);
    if (c.json) {
        json::array delivered;
        for (const Firing& f : firings)
            delivered.push_back(firing_json(f));
        print_json(c.out, {{"delivered", std::move(delivered)}, {"pending", pending}});
        return;
    }
    print_firings(c, firings);
    if (pending > 0)
        c.out << pending << " deliveries still pending (retried by the next 'herald deliver')\n";
}

// --window: how many lines may be in flight at once.
std::size_t window_option(const Context& c) {
    constexpr std::size_t most = 1'000'000;
    const std::string text = c.args.value("window").value_or("1024");
    std::size_t window = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), window);
    if (ec != std::errc() || end != text.data() + text.size() || window == 0 || window > most)
        throw UsageError{
            "publish",
            "--window: expected a number of lines from 1 to 1000000, got '" + text + "'"};
    return window;
}

// Prints a published line's receipt; notes its firings in `fired` unless that is null.
void report_receipt(Context& c, const LineOutcome& o, std::vector<std::string>* fired) {
    if (fired)
        for (const Firing& f : o.receipt.firings)
            fired->push_back(f.id);
    if (!c.json) {  // the common case of a long stream: no JSON built to be thrown away
        c.out << "published " << o.receipt.event_id << ": " << o.receipt.firings.size()
              << " firing(s)" << (o.receipt.duplicate ? ", published before\n" : "\n");
        return;
    }
    json::array firings;
    for (const Firing& f : o.receipt.firings)
        firings.push_back({{"id", f.id}, {"automation", f.automation_name}});
    print_json(c.out, {{"line", o.line},
                       {"event_id", o.receipt.event_id},
                       {"firings", std::move(firings)},
                       {"duplicate", o.receipt.duplicate}});
}

}  // namespace

namespace {

/// The integration `--integration` of `--entity`, of kind `Spec`; throws naming it otherwise.
template <class Spec>
Spec integration_option(Context& c, std::string_view kind) {
    const std::string entity = required_option(c, "entity");
    const std::string name = required_option(c, "integration");
    auto integration = c.database().integrations().find(entity, name);
    if (!integration)
        throw Error(errc::not_found, "integration", "no integration '" + name + "' in " + entity);
    const auto* spec = integration->get_if<Spec>();
    if (!spec)
        throw Error(errc::invalid_argument, "integration",
                    "'" + name + "' is not a " + std::string(kind) + " integration");
    return *spec;
}

/// Runs a test send started by `start(handler)` and prints what came back; exits 1 unless the
/// answer is a 2xx without an error (a Slack Web API refusal is one).
template <class Start>
int run_test_send(Context& c, const char* input_field, Start start) {
    bool done = false;
    boost::system::error_code error;
    WebhookTestResult result;
    start([&](boost::system::error_code ec, WebhookTestResult r) {
        error = ec;
        result = std::move(r);
        done = true;
    });
    c.run_until(done);
    if (error)
        throw Error(static_cast<errc>(error.value()), input_field,
                    result.error.empty() ? error.message() : result.error);
    if (c.json) {
        json::object headers;
        for (const auto& [k, v] : result.headers)
            headers[k] = v;
        print_json(c.out, {{"status", result.status},
                           {"headers", std::move(headers)},
                           {"body", result.body},
                           {"error", result.error},
                           {"latency_ms",
                            std::chrono::duration<double, std::milli>(result.latency).count()}});
    } else if (result.status == 0) {
        c.out << "no response: " << result.error << '\n';
    } else {
        c.out << "HTTP " << result.status << " in "
              << std::chrono::duration_cast<std::chrono::milliseconds>(result.latency).count()
              << " ms\n";
        if (!result.error.empty())
            c.out << result.error << '\n';
        for (const auto& [k, v] : result.headers)
            c.out << k << ": " << v << '\n';
        c.out << '\n' << result.body << '\n';
    }
    return result.status >= 200 && result.status < 300 && result.error.empty() ? 0 : 1;
}

}  // namespace

int webhook_test(Context& c) {
    const auto webhook = integration_option<WebhookIntegration>(c, "webhook");
    const std::string payload = c.args.value("payload")
                                    ? read_input(*c.args.value("payload"), "payload")
                                    : R"({"herald": "test request"})";
    return run_test_send(c, "payload", [&](auto handler) {
        c.engine().dispatcher().async_test_webhook(c.operator_of(webhook.entity), webhook, payload,
                                                   std::move(handler));
    });
}

int slack_test(Context& c) {
    const auto slack = integration_option<SlackIntegration>(c, "Slack");
    const std::string title = c.args.value("title").value_or("herald test message");
    const std::string message =
        c.args.value("message").value_or("If you can read this, herald can post here.");
    return run_test_send(c, "message", [&](auto handler) {
        c.engine().dispatcher().async_test_slack(c.operator_of(slack.entity), slack, title, message,
                                                 std::move(handler));
    });
}

int history(Context& c) {
    HistoryQuery q;
    q.automation_id = c.args.value("automation").value_or("");
    q.entity = c.args.value("entity").value_or("");
    q.project = c.args.value("project").value_or("");
    q.integration = c.args.value("integration").value_or("");
    q.status = status_filter(c);
    q.from = time_option(c, "since");
    q.until = time_option(c, "until");
    q.before = c.args.value("before").value_or("");
    q.limit = limit_option(c, 100);
    print_firings(c, c.database().history().query(q));
    return 0;
}

int dead(Context& c) {
    std::vector<Firing> firings;
    for (Delivery& d : c.database().outbox().dead_letters(limit_option(c, 100)))
        firings.push_back(std::move(d.firing));
    print_firings(c, current(c, [&] {
                      std::vector<std::string> ids;
                      for (const Firing& f : firings)
                          ids.push_back(f.id);
                      return ids;
                  }()));
    return 0;
}

int replay(Context& c) {
    std::vector<std::string> ids = c.args.positionals();
    if (c.args.flag("all-dead"))
        for (const Delivery& d : c.database().outbox().dead_letters(limit_option(c, 1000)))
            ids.push_back(d.firing.id);
    if (ids.empty())
        throw UsageError{"replay", "name delivery ids or give --all-dead"};
    for (const std::string& id : ids) {
        auto firing = c.database().history().find(id);
        if (!firing)
            throw Error(errc::not_found, "delivery", "no delivery with id '" + id + "'");
        c.engine().dispatcher().replay(c.operator_of(firing->event.entity), id);
    }
    report_delivery(c, ids);
    return 0;
}

int publish(Context& c) {
    const std::string path = c.args.positionals().empty() ? "-" : c.args.positionals().front();
    std::ifstream file;
    if (path != "-") {
        file.open(path);
        if (!file)
            throw Error(errc::invalid_argument, "file", "cannot read '" + path + "'");
    }
    std::istream& lines = path == "-" ? std::cin : file;
    const std::size_t window = window_option(c);
    const bool deliver = c.args.flag("deliver");
    const bool stop_on_error = c.args.flag("stop-on-error");
    if (deliver)
        c.start_delivering();
    Engine& engine = deliver ? c.engine() : c.recorder();

    std::vector<std::string> fired;  // with --deliver, what to report on at the end
    std::size_t published = 0;
    std::size_t first_refused = 0;  // the line number of the first refused line; 0: none
    PublishPipeline pipeline(engine, window, [&](std::span<const LineOutcome> batch) {
        for (const LineOutcome& o : batch) {
            if (!o.error.empty()) {
                first_refused = first_refused == 0 ? o.line : first_refused;
                c.out.flush();  // receipts of earlier lines come first
                std::cerr << "herald: error: line " << o.line << ": " << o.error << '\n';
                continue;
            }
            ++published;
            report_receipt(c, o, deliver ? &fired : nullptr);
        }
        // Scripts (and the crash test) see each receipt as soon as it is durable.
        c.out.flush();
    });
    // Lines are published as they arrive, so a host may stream events through a pipe.
    std::size_t line_number = 0;
    for (std::string line; !(stop_on_error && pipeline.refused()) && std::getline(lines, line);) {
        ++line_number;
        if (line.find_first_not_of(" \t\r") == std::string::npos)
            continue;
        try {
            pipeline.publish(line_number, event_from_json(line));
        } catch (const Error& e) {
            pipeline.refuse(line_number, (e.field().empty() ? "" : e.field() + ": ") + e.reason());
        }
    }
    pipeline.finish();
    if (stop_on_error && first_refused != 0)
        std::cerr << "herald: stopped at line " << first_refused
                  << " (--stop-on-error): " << published
                  << " line(s) published, no line read after line " << line_number << '\n';
    if (deliver)
        report_delivery(c, fired);
    return first_refused == 0 ? 0 : 1;
}

int deliver(Context& c) {
    const std::size_t pending = c.deliver_until_idle();
    c.report(std::to_string(pending) + " deliveries pending", {{"pending", pending}});
    return 0;
}

}  // namespace herald::cli
