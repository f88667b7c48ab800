// The PostgreSQL `Storage`: the stores over one pool, the writes that span two stores in one
// transaction, and the asynchronous calls, which run on the pool's workers.
#include "postgres/schema.hpp"
#include "postgres/stores.hpp"
#include "storage/new_deliveries.hpp"

#include <herald/error.hpp>
#include <herald/postgres/database.hpp>

#include <string>
#include <utility>

namespace herald::postgres {
namespace {

using detail::deliveries_of;
using detail::postgres::Connection;
using detail::postgres::HistoryTable;
using detail::postgres::OutboxTable;

void record(Connection& c, std::span<const Firing> firings, std::span<const Delivery> queued) {
    HistoryTable::insert(c, firings);
    OutboxTable::insert(c, queued);
}

void settle_in(Connection& c, std::span<const FiringUpdate> history,
               std::span<const OutboxUpdate> outbox) {
    HistoryTable::update_in(c, history);
    OutboxTable::settle_in(c, outbox);
}

}  // namespace

Database::State::State(const std::string& conninfo, const Options& options)
    : schema(options.schema),
      pool(conninfo, options.schema, options.connections, options.workers),
      writes(pool, options.max_batch, options.workers,
             {.logger = options.logger, .metrics = options.metrics, .slow = options.slow_write}) {
    pool.run([&](Connection& c) { detail::postgres::prepare_schema(c, schema); });
}

Database::Database(std::shared_ptr<State> state) : state_(std::move(state)) {}
Database::~Database() = default;

AutomationStore& Database::automations() {
    return state_->automations;
}
HistoryStore& Database::history() {
    return state_->history;
}
IntegrationStore& Database::integrations() {
    return state_->integrations;
}
OutboxStore& Database::outbox() {
    return state_->outbox;
}
TriggerStateStore& Database::trigger_state() {
    return state_->trigger_state;
}

void Database::record_firings(std::span<const Firing> firings,
                              std::span<const NewDelivery> deliveries) {
    const std::vector<Delivery> queued = deliveries_of(firings, deliveries);
    state_->pool.transact([&](Connection& c) { record(c, firings, queued); });
}

void Database::record_firings_async(std::span<const Firing> firings,
                                    std::span<const NewDelivery> deliveries,
                                    std::function<void(std::exception_ptr)> done) {
    // The spans stay valid until `done` runs, so the write reads them in place.
    state_->writes.push(
        [firings, deliveries](Connection& c) {
            record(c, firings, deliveries_of(firings, deliveries));
        },
        std::move(done));
}

void Database::settle(std::span<const FiringUpdate> history, std::span<const OutboxUpdate> outbox) {
    state_->pool.transact([&](Connection& c) { settle_in(c, history, outbox); });
}

void Database::settle_async(std::span<const FiringUpdate> history,
                            std::span<const OutboxUpdate> outbox,
                            std::function<void(std::exception_ptr)> done) {
    state_->writes.push([history, outbox](Connection& c) { settle_in(c, history, outbox); },
                        std::move(done));
}

void Database::claim_async(Timestamp now, std::size_t limit, Timestamp lease_until,
                           std::function<void(std::exception_ptr, ClaimResult)> done) {
    // A claim leases: a write like the others, handed over once its transaction committed.
    auto result = std::make_shared<ClaimResult>();
    state_->writes.push(
        [result, now, limit, lease_until](Connection& c) {
            result->deliveries = OutboxTable::claim_in(c, now, limit, lease_until);
            result->next_due = OutboxTable::next_due_in(c);
        },
        [result, done = std::move(done)](std::exception_ptr error) {
            if (error)
                done(std::move(error), ClaimResult{});
            else
                done(nullptr, std::move(*result));
        });
}

const std::string& Database::schema() const noexcept {
    return state_->schema;
}

std::shared_ptr<Database> open(const std::string& conninfo, const Options& options) {
    return std::shared_ptr<Database>(
        new Database(std::make_shared<Database::State>(conninfo, options)));
}

}  // namespace herald::postgres
