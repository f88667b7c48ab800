// The usage examples of the public headers (include/herald/), each compiled inside a function
// whose parameters are the names the example takes for granted. The examples themselves are
// taken from the headers at build time (see CMakeLists.txt). Compiled and linked, not run: an
// example shows a call, it does not set up the state the call needs.
#include <herald/herald.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>

#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <utility>

namespace snippets {

using herald::Automation;
using herald::Engine;
using herald::Event;
using herald::Principal;

void action_example() {
#include "include/herald/action.hpp.inc"
}

void authorizer_example() {
#include "include/herald/authorizer.hpp.inc"
}

void automation_example() {
#include "include/herald/automation.hpp.inc"
}

void automation_json_example() {
#include "include/herald/automation_json.hpp.inc"
}

void automation_manager_example(Engine& engine, const Principal& alice,
                                const Automation& automation) {
#include "include/herald/automation_manager.hpp.inc"
}

void clock_example() {
#include "include/herald/clock.hpp.inc"
}

void delivery_config_example() {
#include "include/herald/delivery_config.hpp.inc"
}

void dry_run_example(const Engine& engine, const Event& event) {
#include "include/herald/dry_run.hpp.inc"
}

void dispatcher_example(std::shared_ptr<herald::Storage> storage,
                        std::shared_ptr<herald::SecretStore> secrets, const Event& event,
                        const Principal& admin, const std::string& id) {
    namespace asio = boost::asio;
#include "include/herald/dispatcher.hpp.inc"
}

void engine_example(const Principal& admin, const Automation& automation, const Event& event) {
#include "include/herald/engine.hpp.inc"
}

void error_example(Engine& engine, const Principal& admin, const Automation& automation) {
#include "include/herald/error.hpp.inc"
}

void event_example(Engine& engine, const herald::ArtifactVersion& v3) {
#include "include/herald/event.hpp.inc"
}

void event_json_example() {
#include "include/herald/event_json.hpp.inc"
}

void firing_example(const Engine& engine, const std::string& id) {
#include "include/herald/firing.hpp.inc"
}

void integration_example(Engine& engine, const Principal& admin) {
#include "include/herald/integration.hpp.inc"
}

void integration_json_example() {
#include "include/herald/integration_json.hpp.inc"
}

void integration_manager_example(Engine& engine, const Principal& admin) {
#include "include/herald/integration_manager.hpp.inc"
}

void integration_store_example(const std::shared_ptr<herald::Storage>& storage) {
#include "include/herald/integration_store.hpp.inc"
}

/// What the job queue example hands its jobs to: a host's own launcher.
struct Launcher {
    template <class Callback>
    void enqueue(const std::string&, const std::string&, const std::string&, const std::string&,
                 Callback&& done) {
        std::forward<Callback>(done)(true);
    }
};
Launcher launcher;

#include "include/herald/job_queue.hpp.inc"

void logger_example() {
#include "include/herald/logger.hpp.inc"
}

void memory_storage_example() {
#include "include/herald/memory_storage.hpp.inc"
}

void retention_example(const std::shared_ptr<herald::Storage>& storage,
                       const herald::Clock& clock) {
#include "include/herald/retention.hpp.inc"
}

void outbox_store_example(const std::shared_ptr<herald::Storage>& storage, herald::Timestamp now) {
#include "include/herald/outbox_store.hpp.inc"
}

void pattern_example() {
#include "include/herald/pattern.hpp.inc"
}

void resolver_example(boost::asio::io_context& io) {
#include "include/herald/resolver.hpp.inc"
}

void scope_example() {
#include "include/herald/scope.hpp.inc"
}

void secret_manager_example(Engine& engine, const Principal& admin, const std::string& token,
                            const std::string& new_key) {
#include "include/herald/secret_manager.hpp.inc"
}

void secret_store_example(const Principal& admin, const std::string& token,
                          const herald::Clock& clock) {
#include "include/herald/secret_store.hpp.inc"
}

void template_example(const herald::Firing& firing, const herald::SecretStore& store,
                      const herald::Clock& clock) {
#include "include/herald/template.hpp.inc"
}

void trigger_example() {
#include "include/herald/trigger.hpp.inc"
}

void trigger_state_store_example(const std::shared_ptr<herald::Storage>& storage,
                                 const std::string& id, const herald::Clock& clock) {
#include "include/herald/trigger_state_store.hpp.inc"
}

}  // namespace snippets
