// What every `herald` command works with: the database, an engine on it, the operator
// principal, and where output goes.
#pragma once

#include "cli/arguments.hpp"

#include <herald/engine.hpp>
#include <herald/sqlite/database.hpp>
#if HERALD_CLI_WITH_POSTGRES
#include <herald/postgres/database.hpp>
#endif

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/value.hpp>

#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace herald::cli {

class Context {
  public:
    Context(const Arguments& args, std::ostream& out);
    ~Context();

    const Arguments& args;
    std::ostream& out;
    bool json = false;

    /// The database --db names: a PostgreSQL connection URI (postgresql://, postgres://) or
    /// an SQLite file, opened read-only for a command of `Access::reads`.
    Storage& database();
    /// Re-encrypts the database's secrets under the current key; how many were.
    std::size_t rotate_secret_key();
    /// The engine, with the encrypted secret store (needs the key, see key_provider.hpp).
    Engine& engine();
    /// An engine without a dispatcher, for commands that record firings and never deliver:
    /// its `async_publish` completes on the system executor, so nothing need run this context.
    /// One context holds one engine: whichever of `engine` and `recorder` is called first
    /// decides which it is.
    Engine& recorder();
    /// The operator: an entity admin of `entity`, named by --user.
    Principal operator_of(std::string_view entity) const;

    /// Tells what a command changed: `text` for people, or `result` as one JSON line (--json).
    void report(const std::string& text, const boost::json::object& result);

    /// Starts the dispatcher on a thread of its own, so it delivers while this thread publishes.
    void start_delivering();
    /// Runs the dispatcher (or lets the one `start_delivering` started run) until no delivery is
    /// pending or --wait has passed, then stops it gracefully. Returns how many deliveries are
    /// still pending.
    std::size_t deliver_until_idle();
    /// Runs the io_context until `done` is set by a handler.
    void run_until(const bool& done);

  private:
    EngineConfig engine_config();

    Logger logger_;  ///< stderr at --log-level
    std::shared_ptr<Metrics> metrics_ = std::make_shared<Metrics>();

    std::shared_ptr<SecretStore> secret_store();

    std::shared_ptr<Storage> database_;
    std::shared_ptr<sqlite::Database> sqlite_;  ///< database_ when it is an SQLite file
#if HERALD_CLI_WITH_POSTGRES
    std::shared_ptr<postgres::Database> postgres_;  ///< database_ when it is PostgreSQL
#endif
    boost::asio::io_context io_;
    std::unique_ptr<Engine> engine_;
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
    std::thread runner_;  ///< runs io_ while the main thread publishes
};

/// The value of option `name` or a UsageError saying it is required.
std::string required_option(const Context& c, std::string_view name);
/// The contents of `path` ("-": standard input); throws herald::Error naming `field`.
std::string read_input(const std::string& path, std::string_view field);

/// `text` in lower case ("Dead" -> "dead"): how statuses read in JSON and on the command line.
std::string lowercase(std::string_view text);
/// A firing with its attempts, as `history --json` prints each.
boost::json::value firing_json(const Firing& f);

/// Prints a JSON value on its own line (the --json output).
void print_json(std::ostream& out, const boost::json::value& value);
/// Prints rows as a table with a header row, columns padded to their widest cell.
void print_table(std::ostream& out, const std::vector<std::vector<std::string>>& rows);

// The commands; each returns the process's exit status.
int automations_apply(Context& c);
int automations_export(Context& c);
int automations_list(Context& c);
int automations_summary(Context& c);
int automations_enable(Context& c);
int automations_disable(Context& c);
int automations_delete(Context& c);
int integrations_apply(Context& c);
int integrations_list(Context& c);
int integrations_delete(Context& c);
int secrets_put(Context& c);
int secrets_rotate(Context& c);
int secrets_delete(Context& c);
int secrets_list(Context& c);
int secrets_rotate_key(Context& c);
int webhook_test(Context& c);
int slack_test(Context& c);
int history(Context& c);
int dead(Context& c);
int replay(Context& c);
int publish(Context& c);
int dry_run(Context& c);
int deliver(Context& c);
int stats(Context& c);
int prune(Context& c);

}  // namespace herald::cli
