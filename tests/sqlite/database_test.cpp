// herald::sqlite::Database (herald/sqlite/database.hpp): what survives reopening the file, and
// how the backend fails. The behaviour every backend shares is tested by the storage suite
// (src/storage_suite), which herald_sqlite_tests runs against an SQLite file too.
#include "sqlite/temp_dir.hpp"
#include "support/error_of.hpp"
#include "support/event_builders.hpp"

#include <herald/engine.hpp>
#include <herald/sqlite/database.hpp>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/io_context.hpp>

#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <fstream>
#include <limits>
#include <mutex>
#include <thread>

using namespace herald;
using namespace std::chrono_literals;
using herald::test::admin_of;
using herald::test::error_of;
using herald::test::TempDir;

namespace {

const Timestamp t0{std::chrono::hours{1000}};

Delivery delivery(std::string id, Timestamp due) {
    Delivery d;
    d.firing.id = std::move(id);
    d.firing.automation_id = "a1";
    d.action = action::Webhook{.integration = "deploy", .payload = R"({"v": "${alias}"})"};
    d.trigger = TriggerKind::add_artifact_alias;
    d.due = due;
    return d;
}

Firing firing(std::string id, std::string payload = {}) {
    Firing f;
    f.id = std::move(id);
    f.automation_id = "a1";
    f.payload = std::move(payload);
    return f;
}

/// Overwrites `size` bytes of `file` at `offset` with `byte`.
void overwrite(const std::filesystem::path& file, std::streamoff offset, std::size_t size,
               char byte) {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(offset);
    const std::string bytes(size, byte);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

enum class User { same, unprivileged };

/// Runs `check` in a child process and returns whether it returned true there. `unprivileged`
/// runs it as user `nobody` when this process is root, so that file permissions apply.
bool in_child_process(User user, const std::function<bool()>& check) {
    const pid_t child = fork();
    if (child == 0) {
        if (user == User::unprivileged && geteuid() == 0 &&
            (setgid(65534) != 0 || setuid(65534) != 0))
            _exit(2);
        _exit(check() ? 0 : 1);
    }
    int status = 0;
    waitpid(child, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

bool refused_with(const std::function<void()>& call, std::string_view words) {
    try {
        call();
    } catch (const Error& e) {
        return e.code() == errc::storage_failure && e.reason().find(words) != std::string::npos;
    }
    return false;
}

}  // namespace

TEST_CASE("an engine on a reopened database finds what the last one stored", "[sqlite]") {
    TempDir dir;
    const auto file = dir / "herald.db";
    auto clock = std::make_shared<ManualClock>(t0);
    const Automation alias_rule{
        .name = "production",
        .scope = Scope::for_project("acme", "mnist"),
        .trigger = trigger::AddArtifactAlias{.alias = Pattern{"production"}}};
    // Fires while the average of the last 2 loss values is above 1, at most once a second:
    // after the restart, 3.0 and -0.5 average 1.25 and fire; -0.5 alone would not.
    const Automation loss_rule{
        .name = "loss",
        .scope = Scope::for_project("acme", "mnist"),
        .trigger = trigger::MetricThreshold{
            .metric = "loss", .window = 2, .threshold = 1.0, .cooldown = 1s}};
    const Run run{.id = "r1", .name = "run", .user = "grace"};
    std::string alias_id, loss_id;
    {
        auto store = sqlite::open(file);
        Engine engine{{.storage = store, .clock = clock}};
        alias_id = engine.automations().create(admin_of("acme"), alias_rule).id;
        loss_id = engine.automations().create(admin_of("acme"), loss_rule).id;
        CHECK(engine.publish(test::alias_added("acme", "mnist", "clf", "production"))
                  .firings.size() == 1);
        CHECK(engine.publish(test::metrics_logged("mnist", run, "loss", 3.0, 1)).firings.size() ==
              1);

        store->integrations().insert(WebhookIntegration{
            .entity = "acme", .name = "deploy", .url = "https://ci.example.com/hook"});
        const Delivery ds[] = {delivery("waiting", t0 + 1h), delivery("dead", t0)};
        store->outbox().enqueue(ds);
        store->outbox().claim(t0, 10, t0 + 1min);
        const OutboxUpdate dead{
            .delivery_id = "dead", .kind = OutboxUpdate::Kind::dead_letter, .attempts = 8};
        store->outbox().settle({&dead, 1});
    }

    clock->advance(1h);
    auto store = sqlite::open(file);
    Engine engine{{.storage = store, .clock = clock}};
    CHECK(engine.automations().get(admin_of("acme"), alias_id).name == "production");
    CHECK(engine.history().by_automation(alias_id).size() == 1);
    CHECK(engine.history().by_automation(loss_id).size() == 1);
    CHECK(engine.publish(test::metrics_logged("mnist", run, "loss", -0.5, 2)).firings.size() == 1);

    CHECK(store->integrations().find("acme", "deploy"));
    CHECK(store->outbox().pending_count() == 1);
    CHECK(store->outbox().next_due() == t0 + 1h);
    const auto dead = store->outbox().dead_letters();
    REQUIRE(dead.size() == 1);
    CHECK(dead[0] == [] {
        Delivery d = delivery("dead", t0);
        d.attempts = 8;
        return d;
    }());
}

TEST_CASE("trigger state survives reopening", "[sqlite]") {
    TempDir dir;
    const TriggerStateKey key{.automation_id = "a1", .run_id = "r1"};
    {
        auto store = sqlite::open(dir / "herald.db");
        const double values[] = {1, 2, 3, 4};
        store->trigger_state().append_values(key, values, 9, 3);
        store->trigger_state().record_firing(key, t0);
    }
    auto store = sqlite::open(dir / "herald.db");
    CHECK(store->trigger_state().load(key) ==
          RunTriggerState{.values = {2, 3, 4}, .last_step = 9, .last_fired = t0});
}

TEST_CASE("a second open of the same file is refused while the first is open", "[sqlite]") {
    TempDir dir;
    const auto file = dir / "herald.db";
    auto first = sqlite::open(file);
    const Error e = error_of([&] { sqlite::open(file); });
    CHECK(e.code() == errc::storage_failure);
    CHECK(e.reason().find(file.string()) != std::string::npos);
    CHECK(e.reason().find("already open") != std::string::npos);
    CHECK(in_child_process(
        User::same, [&] { return refused_with([&] { sqlite::open(file); }, "already open"); }));

    first.reset();
    CHECK_NOTHROW(sqlite::open(file));
}

TEST_CASE("a read-only open reads what the holder commits, beside it, and writes nothing",
          "[sqlite]") {
    TempDir dir;
    const auto file = dir / "herald.db";
    auto holder = sqlite::open(file);
    holder->history().append(std::vector<Firing>{firing("f-1", "one")});
    const Error held = error_of([&] { sqlite::open(file); });
    CHECK(held.reason().find("open the file read-only") != std::string::npos);

    auto reader = sqlite::open(file, {.read_only = true});
    REQUIRE(reader->history().find("f-1"));
    holder->history().append(std::vector<Firing>{firing("f-2", "two")});
    CHECK(reader->history().find("f-2"));  // every commit of the holder, not a snapshot
    CHECK(in_child_process(User::same, [&] {
        return sqlite::open(file, {.read_only = true})->history().find("f-2").has_value();
    }));

    const Error refused =
        error_of([&] { reader->history().append(std::vector<Firing>{firing("f-3")}); });
    CHECK(refused.code() == errc::storage_failure);
    CHECK(refused.reason().find(file.string() + ": the database was opened read-only") !=
          std::string::npos);
    std::exception_ptr async_error;
    const std::vector<Firing> unwritten{firing("f-4")};
    reader->record_publish_async({.firings = unwritten},
                                 [&](std::exception_ptr e) { async_error = e; });
    CHECK(async_error);
    const auto keys = std::make_shared<sqlite::StaticKeyProvider>(
        sqlite::EncryptionKey(std::array<unsigned char, 32>{}));
    CHECK(refused_with(
        [&] {
            reader->secrets(keys)->put("acme", "TOKEN", StoredSecret{.value = SecretValue("x")});
        },
        "opened read-only"));
    CHECK(!holder->history().find("f-3"));
    CHECK(!holder->history().find("f-4"));

    // A reader takes no lock: the holder can go and another take its place meanwhile.
    holder.reset();
    CHECK_NOTHROW(holder = sqlite::open(file));
    CHECK(reader->history().find("f-1"));
}

TEST_CASE("a read-only open of a missing file is refused and creates nothing", "[sqlite]") {
    TempDir dir;
    const auto file = dir / "absent.db";
    CHECK(refused_with([&] { sqlite::open(file, {.read_only = true}); }, "no such database file"));
    CHECK(!std::filesystem::exists(file));
}

TEST_CASE("a file that is not a herald database is refused", "[sqlite]") {
    TempDir dir;
    const auto garbage = dir / "garbage.db";
    std::ofstream(garbage) << std::string(8192, 'x');
    const Error e = error_of([&] { sqlite::open(garbage); });
    CHECK(e.code() == errc::storage_failure);
    CHECK(e.reason().find(garbage.string()) != std::string::npos);
    CHECK(e.reason().find("not a database") != std::string::npos);
}

TEST_CASE("a corrupted database fails with a clear error, not a crash", "[sqlite]") {
    TempDir dir;
    const auto file = dir / "herald.db";
    {
        auto store = sqlite::open(file);
        store->history().append(std::vector<Firing>{firing("1")});
    }
    // Keep the 100-byte header, overwrite the schema page and everything after it.
    overwrite(file, 100, std::filesystem::file_size(file) - 100, '\x5a');
    const Error e = error_of([&] { sqlite::open(file); });
    CHECK(e.code() == errc::storage_failure);
    CHECK(e.reason().find(file.string()) != std::string::npos);
    CHECK(e.reason().find("malformed") != std::string::npos);
}

TEST_CASE("a database from a newer herald is refused", "[sqlite]") {
    TempDir dir;
    const auto file = dir / "herald.db";
    sqlite::open(file);
    overwrite(file, 60, 3, '\0');  // the header's user_version (big-endian) at offset 60
    overwrite(file, 63, 1, '\x63');
    const Error e = error_of([&] { sqlite::open(file); });
    CHECK(e.code() == errc::storage_failure);
    CHECK(e.reason().find("schema version 99, newer than this herald supports") !=
          std::string::npos);
}

TEST_CASE("a read-only database file is refused", "[sqlite]") {
    TempDir dir;
    const auto file = dir / "herald.db";
    sqlite::open(file);
    namespace fs = std::filesystem;
    fs::permissions(dir.path(),
                    fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
    fs::permissions(file, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
    fs::permissions(dir / "herald.db.lock", fs::perms::all);
    CHECK(in_child_process(User::unprivileged,
                           [&] { return refused_with([&] { sqlite::open(file); }, "read-only"); }));
}

TEST_CASE("a full disk fails the write that does not fit and keeps what was committed",
          "[sqlite]") {
    TempDir dir;
    const auto file = dir / "herald.db";
    std::size_t committed = 0;
    {
        auto store = sqlite::open(file, {.max_page_count = 64});
        const Error e = error_of([&] {
            for (;; ++committed)
                store->history().append(
                    std::vector<Firing>{firing(std::to_string(committed), std::string(2000, 'p'))});
        });
        CHECK(e.code() == errc::storage_failure);
        CHECK(e.reason().find(file.string()) != std::string::npos);
        CHECK(e.reason().find("full") != std::string::npos);
        CHECK(committed > 10);
    }
    auto store = sqlite::open(file);
    CHECK(store->history().query({.limit = 100'000}).size() == committed);
    CHECK_NOTHROW(store->history().append(std::vector<Firing>{firing("after")}));
}

TEST_CASE("concurrent writers are committed in groups, each failure reported to its writer",
          "[sqlite]") {
    TempDir dir;
    auto store = sqlite::open(dir / "herald.db");
    const Firing taken = firing("taken");
    store->history().append({&taken, 1});

    constexpr int threads = 8, per_thread = 50;
    std::atomic<int> refused = 0;
    std::vector<std::thread> writers;
    for (int t = 0; t < threads; ++t)
        writers.emplace_back([&, t] {
            for (int i = 0; i < per_thread; ++i) {
                // Every tenth write reuses a firing id, so its whole write must be undone.
                const Firing f =
                    firing(i % 10 == 0 ? "taken" : std::to_string(t) + "-" + std::to_string(i));
                const NewDelivery d{.firing = 0, .action = action::None{}, .due = t0};
                try {
                    store->record_firings({&f, 1}, {&d, 1});
                } catch (const Error& e) {
                    if (e.code() == errc::already_exists)
                        ++refused;
                }
            }
        });
    for (auto& w : writers)
        w.join();
    CHECK(refused == threads * per_thread / 10);
    const std::size_t written = threads * per_thread - refused;
    // The history holds every firing written, and "taken".
    CHECK(store->history().query({.limit = 100'000}).size() == written + 1);
    CHECK(store->outbox().pending_count() == written);
}

TEST_CASE("the WAL is copied back into the database file while the engine writes", "[sqlite]") {
    TempDir dir;
    const auto file = dir / "herald.db";
    auto store = sqlite::open(file);
    // About 2,500 pages of WAL: past the 1,000-page checkpoint threshold.
    for (int i = 0; i < 5000; ++i)
        store->history().append(
            std::vector<Firing>{firing(std::to_string(i), std::string(2000, 'p'))});
    // The checkpoint runs on its own thread; wait for it (bounded), not for a fixed time.
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::filesystem::file_size(file) < 4'000'000 &&
           std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(10ms);
    CHECK(std::filesystem::file_size(file) >= 4'000'000);
}

TEST_CASE("publishes in flight from one thread share commits and each completes", "[sqlite]") {
    TempDir dir;
    auto store = sqlite::open(dir / "herald.db");
    Engine engine{{.storage = store}};
    engine.automations().create(
        admin_of("acme"),
        Automation{.name = "production",
                   .scope = Scope::for_project("acme", "mnist"),
                   .trigger = trigger::AddArtifactAlias{.alias = Pattern{"production"}}});
    constexpr int events = 500;
    boost::asio::io_context io;  // where the handlers run
    int failed = 0;
    std::vector<std::string> ids;
    for (int i = 0; i < events; ++i)
        engine.async_publish(test::alias_added("acme", "mnist", "clf", "production"),
                             boost::asio::bind_executor(
                                 io, [&](boost::system::error_code ec, PublishReceipt receipt) {
                                     failed += ec ? 1 : 0;
                                     for (const Firing& f : receipt.firings)
                                         ids.push_back(f.id);
                                 }));
    // Each publish is outstanding work of the handler's executor until it completes.
    io.run();
    CHECK(failed == 0);
    REQUIRE(ids.size() == events);
    for (const std::string& id : ids)
        CHECK(store->history().find(id));
}

TEST_CASE("deliveries recorded with their firings are claimed in order, once, across a restart",
          "[sqlite]") {
    TempDir dir;
    const auto file = dir / "herald.db";
    const Delivery template_delivery = delivery("", t0);
    std::vector<Firing> firings;
    std::vector<NewDelivery> deliveries;
    for (int i = 0; i < 10; ++i) {
        firings.push_back(firing("f" + std::to_string(i)));
        // f2, f5 and f8 have no delivery; the rest are due i seconds after t0.
        if (i % 3 != 2)
            deliveries.push_back({.firing = firings.size() - 1,
                                  .action = template_delivery.action,
                                  .trigger = template_delivery.trigger,
                                  .due = t0 + std::chrono::seconds{i}});
    }
    {
        auto store = sqlite::open(file);
        store->record_firings(firings, deliveries);
        const Delivery alone = delivery("alone", t0 + 2500ms);
        store->outbox().enqueue({&alone, 1});
        const Delivery again{.firing = firings[0], .action = template_delivery.action, .due = t0};
        CHECK(error_of([&] {
                  store->outbox().enqueue({&again, 1});
              }).code() == errc::already_exists);
        CHECK(store->outbox().pending_count() == 8);
        CHECK(store->outbox().next_due() == t0);

        // Due up to t0 + 3s: f0, f1, "alone" (2.5 s), f3, in due order.
        std::vector<std::string> ids;
        for (const Delivery& d : store->outbox().claim(t0 + 3s, 10, t0 + 1h))
            ids.push_back(d.firing.id);
        CHECK(ids == std::vector<std::string>{"f0", "f1", "alone", "f3"});
        CHECK(store->outbox().claim(t0 + 3s, 10, t0 + 1h).empty());
        CHECK(store->outbox().pending_count() == 8);  // 4 leased, 4 still recorded
        CHECK(store->outbox().next_due() == t0 + 4s);
    }
    auto store = sqlite::open(file);
    const auto rest = store->outbox().claim(t0 + 30s, 3, t0 + 1h);
    REQUIRE(rest.size() == 3);
    CHECK(rest[0].firing.id == "f4");
    CHECK(rest[0].due == t0 + 4s);
    CHECK(rest[0].action == deliveries[3].action);
    CHECK(rest[0].trigger == TriggerKind::add_artifact_alias);
    CHECK(rest[2].firing.id == "f7");
    const OutboxUpdate done{.delivery_id = "f4", .kind = OutboxUpdate::Kind::complete};
    store->outbox().settle({&done, 1});
    CHECK(store->outbox().pending_count() == 7);
    // f9 is due since 9 s; the leases of the others run out at 1 h, and they are taken again
    // in the order of their rows ("alone" was recorded after the ten).
    std::vector<std::string> ids;
    for (const Delivery& d : store->outbox().claim(t0 + 2h, 10, t0 + 3h))
        ids.push_back(d.firing.id);
    CHECK(ids == std::vector<std::string>{"f9", "f0", "f1", "f3", "f6", "f7", "alone"});
}

TEST_CASE("a claim moves past firings without deliveries", "[sqlite]") {
    TempDir dir;
    auto store = sqlite::open(dir / "herald.db");
    std::vector<Firing> quiet;
    for (int i = 0; i < 1000; ++i)
        quiet.push_back(firing("q" + std::to_string(i)));
    store->history().append(quiet);
    CHECK(store->outbox().claim(t0, 64, t0 + 1h).empty());
    CHECK_FALSE(store->outbox().next_due());
    const Firing f = firing("late");
    const NewDelivery d{.firing = 0, .action = action::None{}, .due = t0};
    store->record_firings({&f, 1}, {&d, 1});
    CHECK(store->outbox().next_due() == t0);
    const auto claimed = store->outbox().claim(t0, 64, t0 + 1h);
    REQUIRE(claimed.size() == 1);
    CHECK(claimed[0].firing.id == "late");
}

TEST_CASE("a response body that is not UTF-8 is recorded readably, with U+FFFD", "[sqlite]") {
    TempDir dir;
    auto store = sqlite::open(dir / "herald.db");
    const Firing f = firing("f1");
    store->history().append({&f, 1});
    const FiringUpdate tried{.firing_id = "f1",
                             .status = FiringStatus::failed,
                             .attempt = DeliveryAttempt{
                                 .number = 1, .status_code = 500, .response_body = "\x89PNG\xff"}};
    store->history().update({&tried, 1});
    const auto found = store->history().find("f1");
    REQUIRE(found);
    REQUIRE(found->attempts.size() == 1);
    CHECK(found->attempts[0].response_body == "\xef\xbf\xbdPNG\xef\xbf\xbd");
}

TEST_CASE("what JSON text cannot hold is stored as it can: U+FFFD, null", "[sqlite]") {
    TempDir dir;
    auto store = sqlite::open(dir / "herald.db");
    Firing f = firing("f1");
    ArtifactVersion version{.collection = "clf\xff", .index = 1};
    version.metadata["score"] = std::numeric_limits<double>::infinity();
    version.metadata["notes"] = boost::json::array{"fine", "bad\xc3"};
    version.metadata["epochs"] = 3.0;
    f.event.body = AliasAdded{.version = version, .alias = "prod\xe2\x82"};
    store->history().append({&f, 1});
    const auto found = store->history().find("f1");
    REQUIRE(found);
    const auto& added = std::get<AliasAdded>(found->event.body);
    CHECK(added.alias == "prod\xef\xbf\xbd");
    CHECK(added.version.collection == "clf\xef\xbf\xbd");
    CHECK(added.version.metadata.at("score").is_null());
    CHECK(added.version.metadata.at("notes").at(1) == "bad\xef\xbf\xbd");
    CHECK(added.version.metadata.at("epochs").is_double());
}
