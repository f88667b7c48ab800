#include <herald/memory_storage.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <string>

using namespace std::chrono_literals;

namespace {

const herald::Timestamp t0{std::chrono::hours{1000}};

herald::Firing firing(std::string id, std::string automation, std::string integration,
                      herald::Timestamp time, std::string entity = "acme") {
    herald::Firing f;
    f.id = std::move(id);
    f.automation_id = std::move(automation);
    f.integration = std::move(integration);
    f.event.entity = std::move(entity);
    f.time = time;
    return f;
}

std::vector<std::string> ids(const std::vector<herald::Firing>& firings) {
    std::vector<std::string> out;
    for (const auto& f : firings)
        out.push_back(f.id);
    return out;
}

}  // namespace

TEST_CASE("history is queried per automation, per integration and by time", "[history]") {
    herald::MemoryStorage storage;
    herald::HistoryStore& history = storage.history();
    const herald::Firing fs[] = {
        firing("1", "a", "deploy", t0), firing("2", "b", "deploy", t0 + 1s),
        firing("3", "a", "slack", t0 + 2s), firing("4", "c", "deploy", t0 + 3s, "other")};
    history.append(fs);

    CHECK(ids(history.by_automation("a")) == std::vector<std::string>{"3", "1"});
    CHECK(ids(history.by_automation("a", 1)) == std::vector<std::string>{"3"});
    CHECK(history.by_automation("none").empty());
    CHECK(ids(history.query({.entity = "acme", .integration = "deploy"})) ==
          std::vector<std::string>{"2", "1"});
    CHECK(ids(history.query({.from = t0 + 1s, .until = t0 + 3s})) ==
          std::vector<std::string>{"3", "2"});
    CHECK(ids(history.query({.automation_id = "a", .from = t0 + 1s})) ==
          std::vector<std::string>{"3"});
    CHECK(ids(history.query({.limit = 2})) == std::vector<std::string>{"4", "3"});
    REQUIRE(history.last_execution("a"));
    CHECK(history.last_execution("a")->id == "3");
    CHECK_FALSE(history.last_execution("none"));
}

TEST_CASE("history updates append attempts and set status and payload", "[history]") {
    herald::MemoryStorage storage;
    herald::HistoryStore& history = storage.history();
    const herald::Firing f = firing("1", "a", "deploy", t0);
    history.append({&f, 1});

    const herald::FiringUpdate updates[] = {
        {.firing_id = "1",
         .status = herald::FiringStatus::pending,
         .attempt = herald::DeliveryAttempt{.number = 1, .status_code = 500, .error = "HTTP 500"},
         .payload = R"({"token":"***"})"},
        {.firing_id = "1",
         .status = herald::FiringStatus::finished,
         .attempt = herald::DeliveryAttempt{.number = 2, .status_code = 200}},
        {.firing_id = "unknown", .status = herald::FiringStatus::dead}};
    history.update(updates);

    auto got = history.find("1");
    REQUIRE(got);
    CHECK(got->status == herald::FiringStatus::finished);
    CHECK(got->payload == R"({"token":"***"})");
    REQUIRE(got->attempts.size() == 2);
    CHECK(got->attempts[0].status_code == 500);
    CHECK(got->attempts[1].number == 2);
    CHECK_FALSE(history.find("unknown"));
}
