// herald's demo: an example tracking server's model registry and a training run, on the SQLite
// default.
//
// The "server" keeps herald's state in one SQLite file with secrets encrypted at rest. It creates
// secrets, a webhook integration for GitHub-style `repository_dispatch` calls, one for its
// deploy service, a Slack integration (an incoming webhook), and four automations. Three loopback
// receivers stand in for GitHub, the deploy service and Slack; they verify every request's
// signature. The server publishes what happens in the registry and in a training run, herald
// delivers, and the demo prints every firing, its delivery attempts and what the receivers
// verified. Finishes in about a second.
#include <herald/herald.hpp>
#include <herald/sqlite/database.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;

namespace {

// ---- the receivers -------------------------------------------------------------------------

std::string hmac_sha256(const std::string& key, const std::string& body) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest, &length);
    return {reinterpret_cast<const char*>(digest), length};
}

std::string hex(const std::string& bytes) {
    std::ostringstream out;
    for (unsigned char b : bytes)
        out << std::hex << std::setw(2) << std::setfill('0') << int{b};
    return out.str();
}

std::string base64(const std::string& bytes) {
    std::string text(4 * ((bytes.size() + 2) / 3), '\0');
    EVP_EncodeBlock(reinterpret_cast<unsigned char*>(text.data()),
                    reinterpret_cast<const unsigned char*>(bytes.data()),
                    static_cast<int>(bytes.size()));
    return text;
}

// What a receiver saw: which delivery, which attempt, and whether its signature held.
struct Receipt {
    std::string delivery;
    std::string attempt;
    std::string verdict;
};

// A loopback HTTP server standing in for a third party. It checks each request as that party
// would (`verify` returns the verdict) and answers 200.
class Receiver {
  public:
    using Verify = std::function<std::string(const http::request<http::string_body>&)>;

    Receiver(asio::io_context& io, std::string name, Verify verify)
        : name_(std::move(name)),
          verify_(std::move(verify)),
          acceptor_(io, {asio::ip::make_address("127.0.0.1"), 0}) {
        asio::co_spawn(io, accept(), asio::detached);
    }

    std::string url(const std::string& path) const {
        return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + path;
    }
    const std::string& name() const { return name_; }
    const std::map<std::string, Receipt>& receipts() const { return receipts_; }
    void close() { acceptor_.close(); }

  private:
    asio::awaitable<void> accept() {
        for (;;) {
            tcp::socket socket = co_await acceptor_.async_accept(asio::use_awaitable);
            asio::co_spawn(acceptor_.get_executor(), serve(std::move(socket)), asio::detached);
        }
    }

    asio::awaitable<void> serve(tcp::socket socket) {
        boost::beast::flat_buffer buffer;
        for (;;) {
            http::request<http::string_body> request;
            co_await http::async_read(socket, buffer, request, asio::use_awaitable);
            const std::string delivery(request["X-Herald-Delivery"]);
            receipts_[delivery] = {delivery, std::string(request["X-Herald-Attempt"]),
                                   verify_(request)};
            http::response<http::string_body> response{http::status::ok, request.version()};
            response.body() = "ok";
            response.keep_alive(request.keep_alive());
            response.prepare_payload();
            co_await http::async_write(socket, response, asio::use_awaitable);
        }
    }

    std::string name_;
    Verify verify_;
    tcp::acceptor acceptor_;
    std::map<std::string, Receipt> receipts_;
};

// ---- the tracking server's set-up ----------------------------------------------------------

const std::string gh_token = "ghp_demo_token_for_repository_dispatch";
const std::string gh_webhook_key = "github-webhook-signing-key";
const std::string deploy_key = "deploy-service-signing-key";

constexpr const char* automations_json = R"([
  {"name": "dispatch-ci-on-link",
   "description": "a version linked to the registry starts the evaluation workflow",
   "scope": {"type": "REGISTRY", "entity": "acme", "registry": "model-registry"},
   "trigger": {"type": "LINK_ARTIFACT"},
   "action": {"type": "WEBHOOK", "integration": "github",
              "payload": {"event_type": "herald-model-linked",
                          "client_payload": {"version": "${artifact_version_string}",
                                             "by": "${event_author}"}}}},
  {"name": "deploy-production",
   "scope": {"type": "COLLECTION", "entity": "acme", "project": "model-registry", "collection": "classifier"},
   "trigger": {"type": "ADD_ARTIFACT_ALIAS", "alias": "production"},
   "action": {"type": "WEBHOOK", "integration": "deploy",
              "payload": {"deploy": "${artifact_version_string}", "requested_by": "${event_author}"}}},
  {"name": "loss-dropped",
   "scope": {"type": "PROJECT", "entity": "acme", "project": "mnist"},
   "trigger": {"type": "RUN_METRIC_CHANGE", "metric": "loss", "current_window": 2, "prior_window": 2,
               "change_type": "RELATIVE", "direction": "DECREASE", "amount": 0.25},
   "action": {"type": "SLACK", "integration": "ml-alerts", "title": "Loss dropped",
              "message": "${run_name}: ${metric_condition}"}},
  {"name": "run-failed",
   "scope": {"type": "PROJECT", "entity": "acme", "project": "mnist"},
   "trigger": {"type": "RUN_STATE", "states": ["FAILED"]},
   "action": {"type": "SLACK", "integration": "ml-alerts", "title": "Run failed",
              "message": "${run_name} by ${run_user} failed", "severity": "ERROR"}}
])";

herald::Principal admin{.user = "ops", .roles = {herald::Role::entity_admin("acme")}};

void set_up(herald::Engine& engine, const Receiver& github, const Receiver& deploy,
            const Receiver& slack) {
    engine.secrets().put(admin, "acme", "GH_TOKEN", gh_token);
    engine.secrets().put(admin, "acme", "GH_WEBHOOK_KEY", gh_webhook_key);
    engine.secrets().put(admin, "acme", "DEPLOY_KEY", deploy_key);
    engine.secrets().put(admin, "acme", "SLACK_WEBHOOK_URL", slack.url("/services/T0/B0/demo"));
    engine.integrations().create(
        admin, herald::WebhookIntegration{.entity = "acme",
                                          .name = "github",
                                          .url = github.url("/repos/acme/ml/dispatches"),
                                          .access_token = "GH_TOKEN",
                                          .signature = herald::SignatureScheme::github,
                                          .signing_secret = "GH_WEBHOOK_KEY"});
    engine.integrations().create(admin, herald::WebhookIntegration{.entity = "acme",
                                                                   .name = "deploy",
                                                                   .url = deploy.url("/deploy"),
                                                                   .signing_secret = "DEPLOY_KEY"});
    engine.integrations().create(
        admin,
        herald::SlackIntegration{
            .entity = "acme", .name = "ml-alerts", .webhook_url_secret = "SLACK_WEBHOOK_URL"});
    engine.automations().create_all(admin, herald::automations_from_json(automations_json));
}

// ---- what happens on the tracking server ---------------------------------------------------

herald::ArtifactVersion classifier(std::int64_t index) {
    return {.collection = "classifier", .collection_type = "model", .index = index};
}

std::vector<std::pair<std::string, herald::Event>> script() {
    using namespace herald;
    const Run run{.id = "r-17", .name = "bright-sun-17", .user = "alice"};
    std::vector<std::pair<std::string, Event>> events{
        {"alice links classifier v4 to the registry",
         {.author = "alice",
          .entity = "acme",
          .project = "model-registry",
          .body = ArtifactLinked{.version = classifier(4),
                                 .source = {"acme", "mnist", "classifier", 11}}}},
        {"bob adds alias production to classifier v4",
         {.author = "bob",
          .entity = "acme",
          .project = "model-registry",
          .body = AliasAdded{.version = classifier(4), .alias = "production"}}}};
    const double losses[] = {1.00, 0.96, 0.70, 0.66};
    for (std::int64_t step = 0; step < 4; ++step)
        events.push_back(
            {"run bright-sun-17 logs loss " + std::to_string(losses[step]).substr(0, 4),
             {.author = "alice",
              .entity = "acme",
              .project = "mnist",
              .body = RunMetricsLogged{
                  .run = run, .step = step, .metrics = {{"loss", losses[step]}}}}});
    events.push_back({"run bright-sun-17 fails",
                      {.author = "alice",
                       .entity = "acme",
                       .project = "mnist",
                       .body = RunStateChanged{.run = run, .state = RunState::failed}}});
    return events;
}

// ---- running it ----------------------------------------------------------------------------

std::filesystem::path demo_directory() {
    // One place, started afresh by every run, so runs do not pile up.
    auto dir = std::filesystem::temp_directory_path() / "herald-demo";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}

// A fresh key for this demo's database, in a key file (HERALD_SECRET_KEY_FILE format). A real
// deployment provisions its key; herald never makes one up.
std::filesystem::path write_demo_key(const std::filesystem::path& dir) {
    unsigned char key[32];
    RAND_bytes(key, sizeof key);
    const auto path = dir / "secret.key";
    std::ofstream(path) << hex(std::string(reinterpret_cast<char*>(key), sizeof key)) << '\n';
    std::filesystem::permissions(
        path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    return path;
}

// Runs the io_context until every firing is settled and received (or 10 s passed), then stops.
void deliver(asio::io_context& io, herald::Engine& engine, herald::sqlite::Database& db,
             std::vector<Receiver*> receivers, std::size_t expected) {
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            asio::steady_timer timer(io);
            const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{10};
            auto received = [&] {
                std::size_t n = 0;
                for (Receiver* r : receivers)
                    n += r->receipts().size();
                return n;
            };
            while ((db.outbox().pending_count() > 0 || received() < expected) &&
                   std::chrono::steady_clock::now() < deadline) {
                timer.expires_after(std::chrono::milliseconds{10});
                co_await timer.async_wait(asio::use_awaitable);
            }
            co_await engine.dispatcher().async_stop(std::chrono::seconds{1}, asio::use_awaitable);
            io.stop();
        },
        asio::detached);
    io.run();
}

std::string verdict_for(const herald::Firing& f, const std::vector<Receiver*>& receivers) {
    for (const Receiver* r : receivers)
        if (auto it = r->receipts().find(f.id); it != r->receipts().end())
            return r->name() + ": " + it->second.verdict;
    return "not received";
}

void print_table(const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> widths(rows.front().size());
    for (const auto& row : rows)
        for (std::size_t i = 0; i < row.size(); ++i)
            widths[i] = std::max(widths[i], row[i].size());
    for (const auto& row : rows) {
        for (std::size_t i = 0; i + 1 < row.size(); ++i)
            std::cout << std::left << std::setw(static_cast<int>(widths[i] + 2)) << row[i];
        std::cout << row.back() << '\n';
    }
}

}  // namespace

int main() {
    const auto dir = demo_directory();
    const auto key_file = write_demo_key(dir);
    auto db = herald::sqlite::open(dir / "herald.db");

    asio::io_context io;
    herald::EngineConfig config{.storage = db,
                                .secrets = db->secrets(herald::sqlite::key_from_file(key_file))};
    config.dispatch.http.ssrf.allowed_subnets = {"127.0.0.0/8"};  // the receivers are local
    herald::Engine engine{io.get_executor(), config};

    Receiver github(io, "github", [](const http::request<http::string_body>& r) {
        const bool signed_ok =
            r["X-Hub-Signature-256"] == "sha256=" + hex(hmac_sha256(gh_webhook_key, r.body()));
        const bool token_ok = r[http::field::authorization] == "Bearer " + gh_token;
        return std::string(signed_ok && token_ok ? "X-Hub-Signature-256 valid, token valid"
                                                 : "SIGNATURE OR TOKEN INVALID");
    });
    Receiver deploy(io, "deploy", [](const http::request<http::string_body>& r) {
        return std::string(r["X-Wandb-Signature"] == base64(hmac_sha256(deploy_key, r.body()))
                               ? "X-Wandb-Signature valid"
                               : "SIGNATURE INVALID");
    });
    Receiver slack(io, "slack", [](const http::request<http::string_body>& r) {
        return std::string(r.body().find("\"blocks\"") != std::string::npos
                               ? "Block Kit message (the URL is the secret)"
                               : "NOT A SLACK MESSAGE");
    });
    set_up(engine, github, deploy, slack);

    std::cout << "herald demo: a model registry and a training run (entity acme)\n\n";
    std::size_t fired = 0;
    for (auto& [what, event] : script()) {
        const herald::PublishReceipt receipt = engine.publish(std::move(event));
        fired += receipt.firings.size();
        std::string line = "  " + what;
        for (const herald::Firing& f : receipt.firings)
            line += std::string(std::max<std::size_t>(48 - line.size(), 1), ' ') + "-> " +
                    f.automation_name;
        std::cout << line << '\n';
    }
    std::vector<Receiver*> receivers{&github, &deploy, &slack};
    deliver(io, engine, *db, receivers, fired);

    std::vector<std::vector<std::string>> rows{{"AUTOMATION", "DELIVERY", "INTEGRATION", "STATUS",
                                                "ATTEMPTS", "HTTP", "RECEIVER CHECKED"}};
    herald::HistoryQuery everything;
    everything.limit = 100;
    auto firings = db->history().query(everything);
    std::reverse(firings.begin(), firings.end());
    bool all_verified = firings.size() == fired;
    for (const herald::Firing& f : firings) {
        const std::string verdict = verdict_for(f, receivers);
        all_verified = all_verified && f.status == herald::FiringStatus::finished &&
                       verdict.find("INVALID") == std::string::npos &&
                       verdict.find("NOT") == std::string::npos;
        // Delivery ids are time-ordered UUIDs: their leading digits are the time, the tail tells
        // them apart.
        rows.push_back({f.automation_name, f.id.substr(f.id.size() - 8), f.integration,
                        std::string(to_string(f.status)), std::to_string(f.attempts.size()),
                        f.attempts.empty() ? "-" : std::to_string(f.attempts.back().status_code),
                        verdict});
    }
    std::cout << "\nFirings, deliveries and what the receivers verified:\n\n";
    print_table(rows);
    std::cout << "\n"
              << fired << " firings, " << firings.size() << " in the history, "
              << (all_verified ? "every delivery received with a valid signature"
                               : "SOME DELIVERIES FAILED")
              << ".\n\nThe database lives in " << (dir / "herald.db").string()
              << " (secrets encrypted at rest with the key in " << key_file.string()
              << "). Look at it with:\n  herald --db " << (dir / "herald.db").string()
              << " history\n";
    return all_verified ? 0 : 1;
}
