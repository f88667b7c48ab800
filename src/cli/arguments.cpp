#include "cli/arguments.hpp"

#include <algorithm>
#include <charconv>

namespace herald::cli {
namespace {

const OptionSpec* find_option(std::span<const OptionSpec> specs, std::string_view name) {
    auto it = std::find_if(specs.begin(), specs.end(),
                           [&](const OptionSpec& o) { return o.name == name; });
    return it == specs.end() ? nullptr : &*it;
}

std::string command_name(const CommandSpec* command) {
    return command ? std::string(command->words) : std::string();
}

// The command named by `words` exactly, or nullptr.
const CommandSpec* find_command(std::span<const CommandSpec> commands, std::string_view words) {
    auto it = std::find_if(commands.begin(), commands.end(),
                           [&](const CommandSpec& c) { return c.words == words; });
    return it == commands.end() ? nullptr : &*it;
}

// Whether some command's words start with `prefix` followed by a space (a command group).
bool is_group(std::span<const CommandSpec> commands, std::string_view prefix) {
    return std::any_of(commands.begin(), commands.end(), [&](const CommandSpec& c) {
        return c.words.size() > prefix.size() && c.words.starts_with(prefix) &&
               c.words[prefix.size()] == ' ';
    });
}

}  // namespace

Arguments::Arguments(std::span<const std::string_view> args, std::span<const OptionSpec> globals,
                     std::span<const CommandSpec> commands) {
    std::string group;  // the first word of a two-word command, until its second arrives
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string_view arg = args[i];
        if (arg.starts_with("--") && arg.size() > 2) {
            std::string_view name = arg.substr(2);
            std::optional<std::string> inline_value;
            if (auto eq = name.find('='); eq != std::string_view::npos) {
                inline_value = std::string(name.substr(eq + 1));
                name = name.substr(0, eq);
            }
            const OptionSpec* spec = find_option(globals, name);
            if (!spec && command_)
                spec = find_option(command_->options, name);
            if (!spec)
                throw UsageError{command_name(command_), "unknown option --" + std::string(name)};
            auto& slot = options_[std::string(name)];
            if (!slot.empty() && !spec->repeatable)
                throw UsageError{command_name(command_), "--" + std::string(name) + " given twice"};
            if (spec->value.empty()) {
                if (inline_value)
                    throw UsageError{command_name(command_),
                                     "--" + std::string(name) + " takes no value"};
                slot.emplace_back();
            } else if (inline_value) {
                slot.push_back(*inline_value);
            } else if (i + 1 < args.size()) {
                slot.emplace_back(args[++i]);
            } else {
                throw UsageError{command_name(command_),
                                 "--" + std::string(name) + " needs " + std::string(spec->value)};
            }
            continue;
        }
        if (command_) {
            positionals_.emplace_back(arg);
            continue;
        }
        const std::string words = group.empty() ? std::string(arg) : group + " " + std::string(arg);
        if (const CommandSpec* c = find_command(commands, words))
            command_ = c;
        else if (group.empty() && is_group(commands, words))
            group = words;
        else
            throw UsageError{"", "unknown command '" + words + "'"};
    }
    if (!command_ && !group.empty() && !flag("help"))
        throw UsageError{"", "'" + group + "' needs a subcommand"};
    if (command_ && !flag("help") &&
        (positionals_.size() < command_->min_positionals ||
         positionals_.size() > command_->max_positionals))
        throw UsageError{
            command_name(command_),
            "expects " + std::string(command_->positionals.empty() ? "no arguments"
                                                                   : command_->positionals)};
}

bool Arguments::flag(std::string_view name) const {
    return options_.find(name) != options_.end();
}

std::optional<std::string> Arguments::value(std::string_view name) const {
    auto it = options_.find(name);
    if (it == options_.end())
        return std::nullopt;
    return it->second.front();
}

std::vector<std::string> Arguments::values(std::string_view name) const {
    auto it = options_.find(name);
    return it == options_.end() ? std::vector<std::string>() : it->second;
}

std::chrono::milliseconds parse_duration(std::string_view text, std::string_view option) {
    double amount = 0;
    const char* end = text.data() + text.size();
    auto [rest, ec] = std::from_chars(text.data(), end, amount);
    const std::string_view unit(rest, static_cast<std::size_t>(end - rest));
    double scale = 0;
    if (unit.empty() || unit == "s")
        scale = 1000;
    else if (unit == "ms")
        scale = 1;
    else if (unit == "m")
        scale = 60'000;
    else if (unit == "h")
        scale = 3'600'000;
    else if (unit == "d")
        scale = 86'400'000;
    if (ec != std::errc() || scale == 0 || amount < 0)
        throw UsageError{"", "--" + std::string(option) +
                                 ": expected a duration such as 500ms, 2s, 5m, 1h or 30d, got '" +
                                 std::string(text) + "'"};
    return std::chrono::milliseconds{static_cast<std::int64_t>(amount * scale)};
}

namespace {

void describe_options(std::string& out, std::span<const OptionSpec> options) {
    for (const OptionSpec& o : options) {
        std::string left = "  --" + std::string(o.name);
        if (!o.value.empty())
            left += " " + std::string(o.value);
        left.resize(std::max<std::size_t>(left.size() + 2, 28), ' ');
        out += left + std::string(o.help) + (o.repeatable ? " (repeatable)" : "") + "\n";
    }
}

}  // namespace

std::string usage(std::span<const OptionSpec> globals, std::span<const CommandSpec> commands,
                  const CommandSpec* command) {
    std::string out;
    if (command) {
        out += "usage: herald --db FILE [options] " + std::string(command->words);
        if (!command->options.empty())
            out += " [command options]";
        if (!command->positionals.empty())
            out += " " + std::string(command->positionals);
        out += "\n\n" + std::string(command->summary) + "\n";
        if (command->access == Access::reads)
            out +=
                "It only reads the database: it works beside a running engine that holds an\n"
                "SQLite file.\n";
        if (!command->options.empty()) {
            out += "\ncommand options:\n";
            describe_options(out, command->options);
        }
        out += "\nRun 'herald --help' for the options every command takes.\n";
        return out;
    }
    out +=
        "usage: herald --db FILE [options] COMMAND [command options] [arguments]\n\n"
        "Manages herald's automations, integrations and secrets in a database file, publishes\n"
        "events and delivers what they fire. 'herald COMMAND --help' describes a command.\n\n"
        "commands:\n";
    for (const CommandSpec& c : commands) {
        std::string left = "  " + std::string(c.words);
        left.resize(std::max<std::size_t>(left.size() + 2, 24), ' ');
        out += left + std::string(c.summary.substr(0, c.summary.find('\n'))) + "\n";
    }
    out += "\noptions:\n";
    describe_options(out, globals);
    return out;
}

}  // namespace herald::cli
