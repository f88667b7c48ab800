// The command line of the `herald` tool: global options, a command of one or two words
// ("publish", "secrets put"), the command's options and its positional arguments.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace herald::cli {

/// An option a command (or the tool) accepts: `--name VALUE`, `--name=VALUE` or a `--flag`.
struct OptionSpec {
    std::string_view name;   ///< without the dashes
    std::string_view value;  ///< how help names the value ("FILE"); empty for a flag
    std::string_view help;
    bool repeatable = false;
};

/// Whether a command changes the database. One that only reads opens an SQLite file read-only,
/// beside the engine that holds it.
enum class Access { writes, reads };

/// A subcommand: its words, what it does, its options and positional arguments.
struct CommandSpec {
    std::string_view words;        ///< "secrets put"
    std::string_view positionals;  ///< how help shows them ("ID...", "[FILE]")
    std::size_t min_positionals = 0;
    std::size_t max_positionals = 0;
    std::string_view summary;
    std::vector<OptionSpec> options;
    Access access = Access::writes;
};

/// Thrown for a malformed command line; the tool prints it with the usage and exits 2.
struct UsageError {
    std::string command;  ///< the command whose usage applies; empty for the tool's
    std::string message;
};

/// A parsed command line.
class Arguments {
  public:
    /// Parses `args` (without the program name) against the tool's options and `commands`.
    Arguments(std::span<const std::string_view> args, std::span<const OptionSpec> globals,
              std::span<const CommandSpec> commands);

    const CommandSpec* command() const noexcept { return command_; }
    bool flag(std::string_view name) const;
    std::optional<std::string> value(std::string_view name) const;
    std::vector<std::string> values(std::string_view name) const;
    const std::vector<std::string>& positionals() const noexcept { return positionals_; }

  private:
    const CommandSpec* command_ = nullptr;
    std::map<std::string, std::vector<std::string>, std::less<>> options_;
    std::vector<std::string> positionals_;
};

/// "500ms", "2s", "5m", "1h" or a number of seconds; throws UsageError naming `option`.
std::chrono::milliseconds parse_duration(std::string_view text, std::string_view option);

/// The tool's usage, or a command's when `command` is set.
std::string usage(std::span<const OptionSpec> globals, std::span<const CommandSpec> commands,
                  const CommandSpec* command);

}  // namespace herald::cli
