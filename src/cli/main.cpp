// `herald`: the command-line tool for operators and for hosts not written in C++ (doc/cli.md).
// It acts as an operator: an entity admin of the entity each command touches, named by --user.
#include "cli/context.hpp"

#include <herald/error.hpp>

#include <iostream>

namespace herald::cli {
namespace {

using Command = int (*)(Context&);

const OptionSpec help_option{"help", "", "show this help"};

const std::vector<OptionSpec> global_options{
    {"db", "FILE",
     "the herald database: an SQLite file (created when missing) or a postgresql:// URI"},
    {"schema", "NAME", "with a postgresql:// --db: the schema of herald's tables (default herald)"},
    {"json", "", "print JSON for scripts instead of tables"},
    {"user", "NAME", "who the operator is in records (default herald-cli)"},
    {"allow-host", "HOST", "deliver to this host despite the SSRF rules", true},
    {"allow-subnet", "CIDR", "deliver to addresses in this subnet despite the SSRF rules", true},
    {"ca-file", "FILE", "trust the CA certificates in FILE (PEM) for https, not the system's"},
    {"lease", "DURATION",
     "how long a claimed delivery is held before it is claimed again "
     "(default 5m)"},
    {"retries", "LIST", "retry schedule, e.g. 0s,5s,5m (default: herald's)"},
    {"wait", "DURATION", "the longest delivering waits for pending deliveries (default 30s)"},
    {"log-level", "LEVEL",
     "log to stderr at LEVEL and above: debug, info, warning (default), "
     "error or off"},
    help_option,
};

struct Entry {
    CommandSpec spec;
    Command run;
};

std::vector<OptionSpec> with_help(std::vector<OptionSpec> options) {
    options.push_back(help_option);
    return options;
}

const OptionSpec entity_option{"entity", "ENTITY", "the entity"};
const OptionSpec force_option{"force", "", "even while something refers to it"};
const OptionSpec file_option{"file", "FILE", "read the value from FILE (default: standard input)"};
const OptionSpec limit_option{"limit", "N", "at most N records (default 100)"};

const std::vector<Entry>& entries() {
    static const std::vector<Entry> all{
        {{"automations apply", "FILE", 1, 1,
          "Creates or updates the automations in FILE ('-': standard input), a JSON array or\n"
          "object in the automation JSON format. An automation with an id, or with the name of\n"
          "one in the same scope, replaces it.",
          with_help({})},
         automations_apply},
        {{"automations export", "", 0, 0,
          "Prints every automation as a JSON array that 'automations apply' takes back.",
          with_help({{"entity", "ENTITY", "only this entity's automations"},
                     {"output", "FILE", "write to FILE instead of standard output"}}),
          Access::reads},
         automations_export},
        {{"automations list", "", 0, 0, "Lists the automations.",
          with_help({{"entity", "ENTITY", "only this entity's automations"}}), Access::reads},
         automations_list},
        {{"automations summary", "ID", 1, 1,
          "Shows an automation's last execution (delivery, time, status, reason) and how many of\n"
          "its firings of the last --window have each status now.",
          with_help({{"window", "DURATION", "how far back firings are counted (default 24h)"}}),
          Access::reads},
         automations_summary},
        {{"automations enable", "ID...", 1, 100, "Enables automations.", with_help({})},
         automations_enable},
        {{"automations disable", "ID...", 1, 100, "Disables automations.", with_help({})},
         automations_disable},
        {{"automations delete", "ID...", 1, 100, "Deletes automations.", with_help({})},
         automations_delete},
        {{"integrations apply", "FILE", 1, 1,
          "Creates or updates the integrations in FILE ('-': standard input), a JSON array or\n"
          "object in the integration JSON format; the secrets they name must exist.",
          with_help({})},
         integrations_apply},
        {{"integrations list", "", 0, 0, "Lists an entity's integrations.",
          with_help({entity_option}), Access::reads},
         integrations_list},
        {{"integrations delete", "NAME...", 1, 100, "Deletes integrations.",
          with_help({entity_option, force_option})},
         integrations_delete},
        {{"secrets put", "NAME", 1, 1,
          "Stores a new secret. The value comes from standard input or --file, never from the\n"
          "command line; one trailing newline is dropped.",
          with_help({entity_option, file_option})},
         secrets_put},
        {{"secrets rotate", "NAME", 1, 1,
          "Replaces a secret's value (from standard input or --file).",
          with_help({entity_option,
                     file_option,
                     {"keep-previous", "DURATION",
                      "the old value still signs requests this long (default 0s)"}})},
         secrets_rotate},
        {{"secrets delete", "NAME", 1, 1, "Deletes a secret.",
          with_help({entity_option, force_option})},
         secrets_delete},
        {{"secrets list", "", 0, 0, "Lists an entity's secret names (never values).",
          with_help({entity_option}), Access::reads},
         secrets_list},
        {{"secrets rotate-key", "", 0, 0,
          "Re-encrypts every secret under the current key of HERALD_SECRET_KEY(_FILE).",
          with_help({})},
         secrets_rotate_key},
        {{"webhook test", "", 0, 0,
          "Sends one signed request to a webhook integration and prints the response; exits 1\n"
          "when it is not a 2xx.",
          with_help({entity_option,
                     {"integration", "NAME", "the webhook integration"},
                     {"payload", "FILE", "the payload template (default {\"herald\": ...})"}})},
         webhook_test},
        {{"slack test", "", 0, 0,
          "Posts one message through a Slack integration, as a notification would look, and\n"
          "prints Slack's answer; exits 1 unless it is a 2xx that Slack's Web API did not refuse.",
          with_help(
              {entity_option,
               {"integration", "NAME", "the Slack integration"},
               {"title", "TEXT", "the header (default \"herald test message\"; \"\" omits it)"},
               {"message", "TEXT", "the message text (mrkdwn; secrets are refused)"}})},
         slack_test},
        {{"history", "", 0, 0, "Shows firings, newest first, with their delivery attempts.",
          with_help({{"automation", "ID", "one automation's firings"},
                     {"entity", "ENTITY", "the firings of this entity's events"},
                     {"project", "PROJECT", "the firings of this project's events"},
                     {"integration", "NAME", "firings delivered through this integration"},
                     {"status", "STATUS", "pending, finished, failed, skipped or dead"},
                     {"since", "TIME", "firings at or after this RFC 3339 time"},
                     {"until", "TIME", "firings before this RFC 3339 time"},
                     {"before", "DELIVERY", "firings recorded before this one (the next page)"},
                     limit_option}),
          Access::reads},
         history},
        {{"dead", "", 0, 0, "Lists dead deliveries (every retry failed).",
          with_help({limit_option}), Access::reads},
         dead},
        {{"replay", "[DELIVERY...]", 0, 100,
          "Sends dead (or finished, failed) deliveries again with the same delivery ids, then\n"
          "delivers until idle.",
          with_help({{"all-dead", "", "every dead delivery"}, limit_option})},
         replay},
        {{"publish", "[FILE]", 0, 1,
          "Publishes events, one JSON object per line in the event JSON format, from FILE or\n"
          "standard input, as the lines arrive. Up to --window lines are in flight at once, so\n"
          "the database commits many together; each line's receipt is printed in input order\n"
          "once its firings are durable. A refused line (invalid JSON, a field the event format\n"
          "refuses, a failed publish) is reported on standard error with its line number and\n"
          "the reason, and the lines after it are still published; the exit status is then 1.\n"
          "Blank lines are skipped.",
          with_help(
              {{"deliver", "", "deliver what fires while publishing, then until idle (see --wait)"},
               {"window", "N", "lines in flight at once, 1 to 1000000 (default 1024)"},
               {"stop-on-error", "",
                "stop reading at the first refused line (what was published stays)"}})},
         publish},
        {{"dry-run", "[FILE]", 0, 1,
          "Says what publishing events would do, and records nothing: for each event, every\n"
          "automation whose scope holds it, whether it would fire and why (or why not: disabled,\n"
          "a filter, no value, window not full, condition not met, pending, recovering,\n"
          "cooldown), with the payload it would send, secrets masked. The events come from FILE\n"
          "or standard input: one JSON object per line, one object, or a JSON array; run metric\n"
          "events are evaluated in order, each seeing the values of those before it. A refused\n"
          "event stops the command before anything is evaluated (exit status 1).",
          with_help({}), Access::reads},
         dry_run},
        {{"deliver", "", 0, 0,
          "Delivers what the outbox holds until nothing is pending or --wait has passed.",
          with_help({})},
         deliver},
        {{"stats", "", 0, 0,
          "Prints what the database holds: deliveries pending and dead, firings by status.",
          with_help({{"prometheus", "", "print them in the Prometheus text format"}}),
          Access::reads},
         stats},
        {{"prune", "", 0, 0,
          "Deletes what the retention policy no longer keeps: settled firings older than\n"
          "--history, dead letters (with their firings) older than --dead-letters, settled\n"
          "firings beyond the newest --max-firings; with --bodies, expunges the payloads and\n"
          "response bodies of older firings. Never a pending firing or one whose delivery\n"
          "waits. Works in small transactions, so engines sharing a PostgreSQL database go on\n"
          "working meanwhile.",
          with_help({{"history", "DURATION", "keep settled firings this long (default 30d)"},
                     {"dead-letters", "DURATION", "keep dead letters this long (default 90d)"},
                     {"max-firings", "N",
                      "keep at most the newest N settled firings (default: no bound)"},
                     {"bodies", "DURATION", "keep payloads and response bodies this long"},
                     {"batch", "N", "firings looked at per transaction (default 500)"}})},
         prune},
    };
    return all;
}

std::vector<CommandSpec> specs() {
    std::vector<CommandSpec> out;
    for (const Entry& e : entries())
        out.push_back(e.spec);
    return out;
}

Command find_run(const CommandSpec& spec) {
    for (const Entry& e : entries())
        if (e.spec.words == spec.words)
            return e.run;
    return nullptr;
}

int run(std::span<const std::string_view> argv) {
    const std::vector<CommandSpec> commands = specs();
    try {
        const Arguments args(argv, global_options, commands);
        if (args.flag("help") || !args.command()) {
            std::cout << usage(global_options, commands, args.command());
            return args.flag("help") ? 0 : 2;
        }
        Context context(args, std::cout);
        return find_run(*args.command())(context);
    } catch (const UsageError& e) {
        std::cerr << "herald: " << e.message << "\n\n";
        const CommandSpec* command = nullptr;
        for (const CommandSpec& c : commands)
            if (c.words == e.command)
                command = &c;
        std::cerr << usage(global_options, commands, command);
        return 2;
    } catch (const Error& e) {
        std::cerr << "herald: error: " << (e.field().empty() ? "" : e.field() + ": ") << e.reason()
                  << '\n';
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "herald: error: " << e.what() << '\n';
        return 1;
    }
}

}  // namespace
}  // namespace herald::cli

int main(int argc, char** argv) {
    // The tool reads and writes through iostreams only: unsynchronised with stdio, standard
    // input is read a buffer at a time (what a pipe holds) rather than a character at a time.
    // Reading does not flush standard output either: `publish` prints from another thread.
    std::ios::sync_with_stdio(false);
    std::cin.tie(nullptr);
    const std::vector<std::string_view> args(argv + 1, argv + argc);
    return herald::cli::run(args);
}
