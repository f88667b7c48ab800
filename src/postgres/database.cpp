// The PostgreSQL `Storage`: the stores over one pool, the writes that span two stores in one
// transaction, and the asynchronous calls, which run on the pool's workers.
#include "codec/storage_codec.hpp"
#include "postgres/schema.hpp"
#include "postgres/stores.hpp"
#include "storage/firing_update.hpp"
#include "storage/new_deliveries.hpp"
#include "storage/prune.hpp"

#include <herald/error.hpp>
#include <herald/postgres/database.hpp>

#include <string>
#include <utility>

namespace herald::postgres {
namespace {

using detail::deliveries_of;
using detail::postgres::Connection;
using detail::postgres::HistoryTable;
using detail::postgres::IntegrationTable;
using detail::postgres::OutboxTable;
using detail::postgres::Params;
using detail::postgres::PublishRows;
using detail::postgres::Result;
using detail::postgres::TriggerStateTable;

/// Records a publish: its event id, firings and their deliveries into `rows`, which the caller
/// inserts, and its trigger state changes at once.
void record_in(Connection& c, PublishRows& rows, const PublishRecord& publish) {
    rows.add(publish, deliveries_of(publish.firings, publish.deliveries));
    TriggerStateTable::apply_in(c, publish.trigger_state);
}

/// Settles the outbox, then the history of the deliveries whose lease held, then the streaks.
SettleResult settle_in(Connection& c, const SettleBatch& batch) {
    SettleResult result{.lost = OutboxTable::settle_in(c, batch.outbox)};
    detail::apply_kept(batch.history, result.lost, [&](std::span<const FiringUpdate> kept) {
        HistoryTable::update_in(c, kept);
    });
    result.failing = IntegrationTable::update_streaks_in(c, batch.streaks);
    return result;
}

/// `seqs` as a bigint[] parameter.
detail::postgres::ArrayParam array_of(const std::vector<std::int64_t>& seqs) {
    detail::postgres::ArrayParam out;
    for (std::int64_t seq : seqs)
        out.int64(seq);
    return out;
}

/// One batch of deleting, over the firings after `after` (see Storage::prune); `last` is set to
/// the last one looked at. Each DELETE checks again what it read, so a firing another engine
/// settled, replayed or pruned meanwhile is left alone (or not counted twice).
detail::PruneStep prune_batch(Connection& c, const PruneRequest& request, std::int64_t after,
                              std::optional<std::int64_t> keep_from, std::int64_t& last) {
    using detail::postgres::decoded;
    detail::PruneStep step;
    last = after;
    const Result rows = c.exec(
        "SELECT f.seq, f.time, f.body::json->>'status',"
        " o.firing_id IS NOT NULL AND o.dead_seq IS NULL"
        " FROM firings f LEFT JOIN outbox o ON o.firing_id = f.id"
        " WHERE f.seq > $1 AND f.seq < (SELECT max(seq) FROM firings)"
        " ORDER BY f.seq LIMIT $2",
        Params().int64(after).int64(static_cast<std::int64_t>(request.batch)));
    std::vector<std::int64_t> settled, dead;
    step.finished = static_cast<std::size_t>(rows.rows()) < request.batch;
    for (int i = 0; i < rows.rows(); ++i) {
        const std::int64_t seq = rows.int64(i, 0);
        const detail::PruneVerdict verdict = detail::prune_verdict(
            request, {.time = detail::codec::timestamp(rows.int64(i, 1)),
                      .status = decoded(
                          "firings", [&] { return detail::codec::status_named(rows.text(i, 2)); }),
                      .waiting = rows.boolean(i, 3),
                      .beyond_keep = keep_from && seq < *keep_from});
        if (verdict == detail::PruneVerdict::end) {
            step.finished = true;
            break;
        }
        last = seq;
        if (verdict == detail::PruneVerdict::delete_settled)
            settled.push_back(seq);
        else if (verdict == detail::PruneVerdict::delete_dead)
            dead.push_back(seq);
    }
    // Deletes the firings among `seqs` that `still` holds for: what was read may have changed.
    const auto remove = [&](const std::vector<std::int64_t>& seqs, const char* still) {
        if (seqs.empty())
            return std::size_t{0};
        return static_cast<std::size_t>(
            c.exec(
                 std::string("DELETE FROM firings f WHERE f.seq = ANY($1::bigint[]) AND ") + still,
                 Params().array(array_of(seqs)))
                .changed());
    };
    step.done.firings = remove(settled,
                               "f.body::json->>'status' IN ('Finished', 'Failed', 'Skipped') AND "
                               "NOT EXISTS (SELECT 1 FROM outbox o WHERE o.firing_id = f.id)");
    // The dead letter's outbox row goes with its firing (ON DELETE CASCADE).
    step.done.dead_letters =
        remove(dead,
               "f.body::json->>'status' = 'Dead' AND NOT EXISTS (SELECT 1 "
               "FROM outbox o WHERE o.firing_id = f.id AND o.dead_seq IS NULL)");
    return step;
}

/// One batch of expunging bodies, from where the last one ended (the `retention` row, locked
/// so that engines take turns) up to the first firing at or after `request.bodies_before`.
/// Each firing is read under its row lock, so an attempt recorded at the same time is kept.
detail::PruneStep expunge_batch(Connection& c, const PruneRequest& request) {
    using detail::postgres::decoded;
    detail::PruneStep step;
    const std::int64_t from = c.exec("SELECT bodies_seq FROM retention FOR UPDATE").int64(0, 0);
    const Result rows = c.exec(
        "SELECT seq, time, body FROM firings WHERE seq > $1 ORDER BY seq LIMIT $2 FOR UPDATE",
        Params().int64(from).int64(static_cast<std::int64_t>(request.batch)));
    step.finished = static_cast<std::size_t>(rows.rows()) < request.batch;
    std::optional<std::int64_t> last;
    for (int i = 0; i < rows.rows(); ++i) {
        if (detail::codec::timestamp(rows.int64(i, 1)) >= *request.bodies_before) {
            step.finished = true;
            break;
        }
        last = rows.int64(i, 0);
        Firing f;
        decoded("firings", [&] {
            detail::codec::read_firing_document(rows.text(i, 2), f);
            return 0;
        });
        if (detail::expunge_bodies(f)) {
            c.exec("UPDATE firings SET body = $2 WHERE seq = $1",
                   Params().int64(*last).text(detail::codec::firing_document(f)));
            ++step.done.bodies;
        }
    }
    if (last)
        c.exec("UPDATE retention SET bodies_seq = $1", Params().int64(*last));
    return step;
}

}  // namespace

Database::State::State(const std::string& conninfo, const Options& options)
    : schema(options.schema),
      pool(conninfo, options.schema, options.connections, options.workers),
      writes(pool, options.max_batch, options.workers,
             {.logger = options.logger, .metrics = options.metrics, .slow = options.slow_write}),
      listener(
          std::make_shared<detail::postgres::Listener>(conninfo, options.schema, options.logger)) {
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

void Database::record_publish(const PublishRecord& record) {
    state_->pool.transact([&](Connection& c) {
        PublishRows rows;
        record_in(c, rows, record);
        rows.insert(c);
    });
}

void Database::record_publish_async(const PublishRecord& record,
                                    std::function<void(std::exception_ptr)> done) {
    // The spans stay valid until `done` runs, so the write reads them in place.
    state_->writes.push([record](Connection& c, PublishRows& rows) { record_in(c, rows, record); },
                        std::move(done));
}

SettleResult Database::settle(const SettleBatch& batch) {
    return state_->pool.transact([&](Connection& c) { return settle_in(c, batch); });
}

void Database::settle_async(const SettleBatch& batch,
                            std::function<void(std::exception_ptr, SettleResult)> done) {
    // Set, not added to, each time the write runs: a group in which a write failed is written
    // again, each write in a savepoint.
    auto result = std::make_shared<SettleResult>();
    state_->writes.push(
        [batch, result](Connection& c, PublishRows&) { *result = settle_in(c, batch); },
        [result, done = std::move(done)](std::exception_ptr error) {
            done(error, error ? SettleResult{} : std::move(*result));
        });
}

void Database::claim_async(Timestamp now, std::size_t limit, Timestamp lease_until,
                           std::function<void(std::exception_ptr, ClaimResult)> done) {
    // A claim leases: a write like the others, handed over once its transaction committed.
    auto result = std::make_shared<ClaimResult>();
    state_->writes.push(
        [result, now, limit, lease_until](Connection& c, PublishRows&) {
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

std::unique_ptr<StoreWatch> Database::watch(StoreChange what, std::function<void()> listener) {
    return state_->listener->watch(what, std::move(listener));
}

PruneResult Database::prune(const PruneRequest& request) {
    detail::postgres::Pool& pool = state_->pool;
    std::optional<std::int64_t> keep_from;
    if (request.keep > 0)
        keep_from = pool.run([&](Connection& c) -> std::optional<std::int64_t> {
            const Result r = c.exec("SELECT seq FROM firings ORDER BY seq DESC LIMIT 1 OFFSET $1",
                                    Params().int64(static_cast<std::int64_t>(request.keep - 1)));
            if (r.rows() == 0)
                return std::nullopt;
            return r.int64(0, 0);
        });
    std::int64_t after = 0;
    return detail::run_prune_pass(
        request,
        [&] {
            std::int64_t last = after;
            const detail::PruneStep step = pool.transact(
                [&](Connection& c) { return prune_batch(c, request, after, keep_from, last); });
            after = last;
            return step;
        },
        [&] {
            return pool.transact([&](Connection& c) {
                detail::PruneStep step;
                step.done.event_ids =
                    HistoryTable::forget_events_in(c, request.settled_before, request.batch);
                step.finished = step.done.event_ids < request.batch;
                return step;
            });
        },
        [&] { return pool.transact([&](Connection& c) { return expunge_batch(c, request); }); });
}

const std::string& Database::schema() const noexcept {
    return state_->schema;
}

std::shared_ptr<Database> open(const std::string& conninfo, const Options& options) {
    return std::shared_ptr<Database>(
        new Database(std::make_shared<Database::State>(conninfo, options)));
}

}  // namespace herald::postgres
