// One replica for the tests that run several engines on one PostgreSQL schema: an engine whose
// dispatcher runs on an io_context of a thread of its own, sending to loopback receivers.
#pragma once

#include "postgres/test_server.hpp"

#include <herald/engine.hpp>
#include <herald/postgres/database.hpp>

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <thread>

namespace herald::test {

class Replica {
  public:
    /// On `schema` of the database `conninfo` names, configured by `tweak` after the
    /// defaults (loopback allowed).
    Replica(const std::string& schema, const std::function<void(EngineConfig&)>& tweak,
            const std::string& conninfo = postgres_conninfo())
        : db(postgres::open(conninfo, {.schema = schema})) {
        EngineConfig config{.storage = db};
        config.dispatch.http.ssrf.allowed_subnets = {"127.0.0.0/8"};
        tweak(config);
        engine_.emplace(io_.get_executor(), std::move(config));
        thread_ = std::thread([this] {
            while (!done_)
                io_.run_for(std::chrono::milliseconds{20});
        });
    }
    ~Replica() {
        done_ = true;
        thread_.join();
        engine_.reset();
        io_.run_for(std::chrono::milliseconds{50});
    }
    Engine& engine() { return *engine_; }

    const std::shared_ptr<postgres::Database> db;

  private:
    boost::asio::io_context io_;
    std::optional<Engine> engine_;
    std::atomic<bool> done_ = false;
    std::thread thread_;
};

}  // namespace herald::test
