#include "cli/context.hpp"

#include <herald/error.hpp>
#include <herald/event_json.hpp>
#include <herald/key_provider.hpp>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <sstream>

namespace herald::cli {
namespace {

DispatcherConfig dispatcher_config(const Arguments& args) {
    DispatcherConfig config;
    config.http.ssrf.allowed_hosts = args.values("allow-host");
    config.http.ssrf.allowed_subnets = args.values("allow-subnet");
    if (auto ca_file = args.value("ca-file")) {
        if (!std::ifstream(*ca_file))
            throw Error(errc::invalid_argument, "--ca-file", "cannot read '" + *ca_file + "'");
        config.http.ca_file = *ca_file;
    }
    if (auto lease = args.value("lease"))
        config.lease = parse_duration(*lease, "lease");
    if (auto retries = args.value("retries")) {
        config.retry.schedule.clear();
        std::stringstream list(*retries);
        for (std::string item; std::getline(list, item, ',');)
            config.retry.schedule.push_back(parse_duration(item, "retries"));
        config.retry.jitter = 0;
    }
    config.poll_interval = std::min<std::chrono::milliseconds>(config.poll_interval, config.lease);
    // A test send is one request: it does not carry out what waits in the outbox meanwhile.
    config.claim_outbox = !(args.command() && args.command()->words == "webhook test");
    return config;
}

Logger stderr_logger_of(const Arguments& args) {
    const std::string name = args.value("log-level").value_or("warning");
    const std::optional<LogLevel> level = parse_log_level(name);
    if (!level)
        throw UsageError{
            "", "--log-level: expected debug, info, warning, error or off, not '" + name + "'"};
    return stderr_logger(*level);
}

}  // namespace

Context::Context(const Arguments& a, std::ostream& o)
    : args(a), out(o), json(a.flag("json")), logger_(stderr_logger_of(a)) {}

Context::~Context() {
    if (runner_.joinable()) {
        io_.stop();
        runner_.join();
    }
}

Storage& Context::database() {
    if (database_)
        return *database_;
    const std::string db = required_option(*this, "db");
    if (db.starts_with("postgresql://") || db.starts_with("postgres://")) {
#if HERALD_CLI_WITH_POSTGRES
        postgres::Options options{.logger = logger_, .metrics = metrics_};
        if (auto schema = args.value("schema"))
            options.schema = *schema;
        postgres_ = postgres::open(db, options);
        database_ = postgres_;
#else
        throw Error(errc::unsupported, "--db", "this herald was built without PostgreSQL");
#endif
    } else {
        if (args.value("schema"))
            throw UsageError{"", "--schema: only for a PostgreSQL --db (postgresql://...)"};
        // A command that only reads opens the file beside the engine that may hold it.
        const bool reads = args.command() && args.command()->access == Access::reads;
        sqlite_ = sqlite::open(db, {.logger = logger_, .metrics = metrics_, .read_only = reads});
        database_ = sqlite_;
    }
    return *database_;
}

std::shared_ptr<SecretStore> Context::secret_store() {
    database();
#if HERALD_CLI_WITH_POSTGRES
    if (postgres_)
        return postgres_->secrets(key_from_environment());
#endif
    return sqlite_->secrets(key_from_environment());
}

std::size_t Context::rotate_secret_key() {
    database();
#if HERALD_CLI_WITH_POSTGRES
    if (postgres_)
        return postgres_->secrets(key_from_environment())->rotate_key();
#endif
    return sqlite_->secrets(key_from_environment())->rotate_key();
}

EngineConfig Context::engine_config() {
    database();
    return {.storage = database_,
            .dispatch = dispatcher_config(args),
            .secrets = secret_store(),
            .logger = logger_,
            .metrics = metrics_};
}

Engine& Context::engine() {
    if (!engine_)
        engine_ = std::make_unique<Engine>(io_.get_executor(), engine_config());
    return *engine_;
}

Engine& Context::recorder() {
    if (!engine_)
        engine_ = std::make_unique<Engine>(engine_config());
    return *engine_;
}

Principal Context::operator_of(std::string_view entity) const {
    return {.user = args.value("user").value_or("herald-cli"),
            .roles = {Role::entity_admin(std::string(entity))}};
}

void Context::report(const std::string& text, const boost::json::object& result) {
    if (json)
        print_json(out, result);
    else
        out << text << '\n';
}

void Context::run_until(const bool& done) {
    io_.restart();
    while (!done && io_.run_one() > 0) {
    }
}

void Context::start_delivering() {
    engine();
    work_.emplace(io_.get_executor());
    runner_ = std::thread([this] { io_.run(); });
}

std::size_t Context::deliver_until_idle() {
    Engine& e = engine();
    const auto wait = parse_duration(args.value("wait").value_or("30s"), "wait");
    const auto deadline = std::chrono::steady_clock::now() + wait;
    OutboxStore& outbox = database().outbox();
    boost::asio::steady_timer timer(io_);
    bool stopped = false;
    std::function<void()> check = [&] {
        if (outbox.pending_count() == 0 || std::chrono::steady_clock::now() >= deadline) {
            e.dispatcher().async_stop(std::chrono::seconds{5}, [&](boost::system::error_code) {
                stopped = true;
                io_.stop();  // idle keep-alive connections are no reason to stay
            });
            return;
        }
        timer.expires_after(std::chrono::milliseconds{20});
        timer.async_wait([&](boost::system::error_code) { check(); });
    };
    boost::asio::post(io_, [&] {
        e.dispatcher().wake();
        check();
    });
    if (runner_.joinable()) {
        work_.reset();
        runner_.join();
    } else {
        run_until(stopped);
    }
    return outbox.pending_count();
}

std::string required_option(const Context& c, std::string_view name) {
    auto v = c.args.value(name);
    if (!v)
        throw UsageError{c.args.command() ? std::string(c.args.command()->words) : "",
                         "--" + std::string(name) + " is required"};
    return *v;
}

std::string read_input(const std::string& path, std::string_view field) {
    if (path == "-")
        return {std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw Error(errc::invalid_argument, std::string(field), "cannot read '" + path + "'");
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string lowercase(std::string_view text) {
    std::string out(text);
    for (char& ch : out)
        ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return out;
}

boost::json::value firing_json(const Firing& f) {
    boost::json::array attempts;
    for (const DeliveryAttempt& a : f.attempts)
        attempts.push_back(
            {{"number", a.number},
             {"time", format_rfc3339(a.time)},
             {"status_code", a.status_code},
             {"latency_ms", std::chrono::duration<double, std::milli>(a.latency).count()},
             {"error", a.error}});
    return {{"id", f.id},
            {"automation_id", f.automation_id},
            {"automation", f.automation_name},
            {"time", format_rfc3339(f.time)},
            {"status", to_string(f.status)},
            {"action", to_string(f.action)},
            {"integration", f.integration},
            {"reason", f.reason},
            {"event", to_json_value(f.event)},
            {"attempts", std::move(attempts)}};
}

void print_json(std::ostream& out, const boost::json::value& value) {
    out << boost::json::serialize(value) << '\n';
}

void print_table(std::ostream& out, const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> widths;
    for (const auto& row : rows)
        for (std::size_t i = 0; i < row.size(); ++i) {
            widths.resize(std::max(widths.size(), row.size()));
            widths[i] = std::max(widths[i], row[i].size());
        }
    for (const auto& row : rows) {
        std::string line;
        for (std::size_t i = 0; i < row.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size())
                line.append(widths[i] - row[i].size() + 2, ' ');
        }
        out << line << '\n';
    }
}

}  // namespace herald::cli
