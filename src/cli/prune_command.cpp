// herald prune: one retention pass over a database, for an operator (or a cron job).
#include "cli/context.hpp"

#include <herald/clock.hpp>
#include <herald/retention.hpp>

#include <boost/json/object.hpp>

#include <charconv>
#include <string>

namespace herald::cli {
namespace {

/// --NAME as a positive age, or `fallback` when absent.
std::chrono::seconds age_option(const Context& c, std::string_view name,
                                std::chrono::seconds fallback) {
    const auto text = c.args.value(name);
    if (!text)
        return fallback;
    const auto age = std::chrono::duration_cast<std::chrono::seconds>(parse_duration(*text, name));
    if (age <= std::chrono::seconds::zero())
        throw UsageError{"prune", "--" + std::string(name) + ": must be at least 1s"};
    return age;
}

/// --NAME as a count, or `fallback` when absent.
std::size_t count_option(const Context& c, std::string_view name, std::size_t fallback,
                         std::size_t least) {
    const auto text = c.args.value(name);
    if (!text)
        return fallback;
    std::size_t value = 0;
    const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
    if (ec != std::errc() || end != text->data() + text->size() || value < least)
        throw UsageError{"prune", "--" + std::string(name) +
                                      ": expected a whole number of at least " +
                                      std::to_string(least) + ", got '" + *text + "'"};
    return value;
}

}  // namespace

int prune(Context& c) {
    const RetentionPolicy defaults;
    RetentionPolicy policy{.history = age_option(c, "history", defaults.history),
                           .dead_letters = age_option(c, "dead-letters", defaults.dead_letters),
                           .max_firings = count_option(c, "max-firings", 0, 0),
                           .batch = count_option(c, "batch", defaults.batch, 1)};
    if (c.args.value("bodies"))
        policy.bodies = age_option(c, "bodies", {});
    validate(policy);
    const PruneResult r = c.database().prune(PruneRequest::at(SystemClock().now(), policy));
    c.report("pruned " + std::to_string(r.firings) + " settled firings and " +
                 std::to_string(r.dead_letters) + " dead letters; expunged the bodies of " +
                 std::to_string(r.bodies) + " firings (" + std::to_string(r.batches) +
                 " transactions)",
             {{"firings", r.firings},
              {"dead_letters", r.dead_letters},
              {"bodies", r.bodies},
              {"batches", r.batches}});
    return 0;
}

}  // namespace herald::cli
