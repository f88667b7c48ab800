// The history and the outbox: firings by id with their deliveries beside them, claimed with
// row locks that other claimers skip.
#include "codec/storage_codec.hpp"
#include "postgres/publish_rows.hpp"
#include "postgres/stores.hpp"
#include "storage/firing_counts.hpp"
#include "storage/firing_update.hpp"

#include <herald/error.hpp>

#include <algorithm>
#include <array>
#include <climits>
#include <iterator>
#include <map>
#include <string_view>
#include <unordered_set>

namespace herald::detail::postgres {
namespace {

using codec::nanos;
using codec::timestamp;

/// The columns a firing is read from, in this order (`firing_of`).
#define HERALD_FIRING_COLUMNS "f.id, f.automation_id, f.integration, f.time, f.body"

Firing firing_of(const Result& r, int row, int first,
                 codec::FiringFields fields = codec::FiringFields::all) {
    Firing f{.id = std::string(r.text(row, first)),
             .automation_id = std::string(r.text(row, first + 1)),
             .time = timestamp(r.int64(row, first + 3)),
             .integration = std::string(r.text(row, first + 2))};
    decoded("firings", [&] {
        codec::read_firing_document(r.text(row, first + 4), f, fields);
        return 0;
    });
    return f;
}

// Deliveries with their firings, as `delivery_of` reads them: due, attempts, round_start,
// action, trigger, then the firing's columns.
constexpr const char* select_deliveries =
    "SELECT o.due, o.attempts, o.round_start, o.action, o.trigger, " HERALD_FIRING_COLUMNS
    " FROM outbox o JOIN firings f ON f.id = o.firing_id ";

Delivery delivery_of(const Result& r, int row) {
    return Delivery{
        .firing = firing_of(r, row, 5, codec::FiringFields::as_fired),
        .action = decoded("outbox", [&] { return codec::action_from_json(r.text(row, 3)); }),
        .trigger = decoded("outbox", [&] { return codec::trigger_named(r.text(row, 4)); }),
        .attempts = static_cast<int>(r.int64(row, 1)),
        .round_start = static_cast<int>(r.int64(row, 2)),
        .due = timestamp(r.int64(row, 0))};
}

std::optional<Firing> find_in(Connection& c, std::string_view firing_id) {
    const Result r = c.exec("SELECT " HERALD_FIRING_COLUMNS " FROM firings f WHERE id = $1",
                            Params().text(firing_id));
    if (r.rows() == 0)
        return std::nullopt;
    return firing_of(r, 0, 0);
}

/// The WHERE clause of the firings a `HistoryQuery` selects (its limit aside), over
/// `filter_params`: one statement whose unset filters are null parameters; the automation,
/// entity and integration have their indexes, the project and status are read from the document.
#define HERALD_HISTORY_FILTER                                \
    " WHERE ($1 = '' OR automation_id = $1)"                 \
    " AND ($2 = '' OR entity = $2)"                          \
    " AND ($3 = '' OR integration = $3)"                     \
    " AND ($4::bigint IS NULL OR time >= $4)"                \
    " AND ($5::bigint IS NULL OR time < $5)"                 \
    " AND ($6 = '' OR body::json->'event'->>'project' = $6)" \
    " AND ($7 = '' OR body::json->>'status' = $7)"           \
    " AND ($8 = '' OR seq < (SELECT b.seq FROM firings b WHERE b.id = $8))"

/// $1 to $8 of `HERALD_HISTORY_FILTER`.
Params filter_params(const HistoryQuery& q) {
    Params p;
    p.text(q.automation_id)
        .text(q.entity)
        .text(q.integration)
        .optional_int64(q.from ? std::optional(nanos(*q.from)) : std::nullopt)
        .optional_int64(q.until ? std::optional(nanos(*q.until)) : std::nullopt)
        .text(q.project)
        .text(q.status ? to_string(*q.status) : std::string_view())
        .text(q.before);
    return p;
}

}  // namespace

// ---- history ----

void HistoryTable::append(std::span<const Firing> firings) {
    PublishRows rows;
    rows.add({.firings = firings}, {});
    pool_.transact([&](Connection& c) { rows.insert(c); });
}

std::optional<RecordedAction> HistoryTable::recorded_action(std::string_view firing_id) const {
    // Recorded with the firing, or else enqueued on its own into the outbox.
    const Result r = pool_.run([&](Connection& c) {
        return c.exec(
            "SELECT coalesce(f.action, o.action), coalesce(f.trigger, o.trigger) FROM firings f "
            "LEFT JOIN outbox o ON o.firing_id = f.id WHERE f.id = $1",
            Params().text(firing_id));
    });
    if (r.rows() == 0 || r.is_null(0, 0))
        return std::nullopt;
    return decoded("firings", [&] {
        return RecordedAction{.action = codec::action_from_json(r.text(0, 0)),
                              .trigger = codec::trigger_named(r.text(0, 1))};
    });
}

void HistoryTable::update_in(Connection& c, std::span<const FiringUpdate> updates) {
    if (updates.empty())
        return;
    // Every firing read and locked in one statement (in id order, the same for every writer),
    // the updates applied in order, then every changed document written in one statement.
    ArrayParam wanted;
    for (const FiringUpdate& u : updates)
        wanted.text(u.firing_id);
    const Result r = c.exec("SELECT " HERALD_FIRING_COLUMNS
                            " FROM firings f WHERE f.id = ANY($1::text[]) ORDER BY f.id FOR UPDATE",
                            Params().array(wanted));
    std::map<std::string, Firing, std::less<>> firings;
    for (int i = 0; i < r.rows(); ++i) {
        Firing f = firing_of(r, i, 0);
        std::string id = f.id;
        firings.emplace(std::move(id), std::move(f));
    }
    for (const FiringUpdate& u : updates)
        if (const auto it = firings.find(u.firing_id); it != firings.end())
            apply_update(it->second, u);
    if (firings.empty())
        return;
    ArrayParam ids, bodies;
    for (const auto& [id, f] : firings) {
        ids.text(id);
        bodies.text(codec::firing_document(f));
    }
    c.exec(
        "UPDATE firings f SET body = u.body FROM unnest($1::text[], $2::text[]) AS u(id, body)"
        " WHERE f.id = u.id",
        Params().array(ids).array(bodies));
}

void HistoryTable::update(std::span<const FiringUpdate> updates) {
    pool_.transact([&](Connection& c) { update_in(c, updates); });
}

std::optional<Firing> HistoryTable::find(std::string_view firing_id) const {
    return pool_.run([&](Connection& c) { return find_in(c, firing_id); });
}

std::vector<Firing> HistoryTable::query(const HistoryQuery& q) const {
    const Result r = pool_.run([&](Connection& c) {
        Params p = filter_params(q);
        p.int64(static_cast<std::int64_t>(std::min<std::size_t>(q.limit, INT64_MAX)));
        return c.exec("SELECT " HERALD_FIRING_COLUMNS " FROM firings f" HERALD_HISTORY_FILTER
                      " ORDER BY seq DESC LIMIT $9",
                      p);
    });
    std::vector<Firing> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i)
        out.push_back(firing_of(r, i, 0));
    return out;
}

FiringCounts HistoryTable::count_firings(const HistoryQuery& q) const {
    const Result r = pool_.run([&](Connection& c) {
        return c.exec("SELECT body::json->>'status', count(*) FROM firings f" HERALD_HISTORY_FILTER
                      " GROUP BY 1",
                      filter_params(q));
    });
    FiringCounts counts = no_firings();
    for (int i = 0; i < r.rows(); ++i) {
        const FiringStatus status =
            decoded("firings", [&] { return codec::status_named(r.text(i, 0)); });
        count_of(counts, status) = static_cast<std::size_t>(r.int64(i, 1));
    }
    return counts;
}

// ---- outbox ----

void OutboxTable::enqueue(std::span<const Delivery> deliveries) {
    FiringRows firings;
    OutboxRows rows;
    for (const Delivery& d : deliveries) {
        firings.add(d.firing, &d);
        rows.add(d);
    }
    pool_.transact([&](Connection& c) {
        firings.insert_missing(c);
        rows.insert(c);
    });
}

std::vector<Delivery> OutboxTable::claim_in(Connection& c, Timestamp now, std::size_t limit,
                                            Timestamp lease_until) {
    // Rows another claimer has locked are skipped, not waited for: concurrent claimers take
    // disjoint batches, each in due order.
    const Result r = c.exec(
        "WITH taken AS (SELECT firing_id, ready_at, seq FROM outbox"
        " WHERE dead_seq IS NULL AND ready_at <= $1 ORDER BY ready_at, seq LIMIT $2"
        " FOR UPDATE SKIP LOCKED),"
        " leased AS (UPDATE outbox o SET ready_at = $3 FROM taken"
        " WHERE o.firing_id = taken.firing_id"
        " RETURNING o.firing_id, taken.ready_at AS was_ready, taken.seq AS order_seq,"
        " o.due, o.attempts, o.round_start, o.action, o.trigger)"
        " SELECT l.due, l.attempts, l.round_start, l.action, l.trigger, " HERALD_FIRING_COLUMNS
        " FROM leased l JOIN firings f ON f.id = l.firing_id ORDER BY l.was_ready, l.order_seq",
        Params()
            .int64(nanos(now))
            .int64(static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)))
            .int64(nanos(lease_until)));
    std::vector<Delivery> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i)
        out.push_back(delivery_of(r, i));
    return out;
}

std::vector<Delivery> OutboxTable::claim(Timestamp now, std::size_t limit, Timestamp lease_until) {
    return pool_.transact([&](Connection& c) { return claim_in(c, now, limit, lease_until); });
}

namespace {

/// The updates of `updates` from `first` that one statement can make: of one kind, each to
/// another delivery (a row changes once a statement), and a single dead letter (each takes the
/// next `dead_seq`, in order). Returns the end of the run.
std::size_t run_end(std::span<const OutboxUpdate> updates, std::size_t first) {
    const OutboxUpdate::Kind kind = updates[first].kind;
    if (kind == OutboxUpdate::Kind::dead_letter)
        return first + 1;
    std::unordered_set<std::string_view> ids{updates[first].delivery_id};
    std::size_t end = first + 1;
    while (end < updates.size() && updates[end].kind == kind &&
           ids.insert(updates[end].delivery_id).second)
        ++end;
    return end;
}

}  // namespace

std::vector<std::string> OutboxTable::settle_in(Connection& c,
                                                std::span<const OutboxUpdate> updates) {
    // The updates as rows u(id, lease, due, attempts): a lease (null: whoever holds it) holds
    // while the row's ready_at is still that lease end. By kind (complete, reschedule,
    // dead_letter, renew), made once, not per update; each returns the deliveries it changed.
    static const std::array<std::string, 4> statements = [] {
        constexpr const char* rows =
            " unnest($1::text[], $2::bigint[], $3::bigint[], $4::integer[])"
            " AS u(id, lease, due, attempts)";
        constexpr const char* waiting =
            " WHERE o.firing_id = u.id AND o.dead_seq IS NULL"
            " AND (u.lease IS NULL OR o.ready_at = u.lease) RETURNING o.firing_id";
        const auto update = [&](const char* set) {
            return std::string("UPDATE outbox o SET ") + set + " FROM" + rows + waiting;
        };
        return std::array<std::string, 4>{
            std::string("DELETE FROM outbox o USING") + rows + waiting,
            update("ready_at = u.due, due = u.due, attempts = u.attempts"),
            update("attempts = u.attempts, dead_seq = nextval('dead_letter_seq')"),
            update("ready_at = u.due")};
    }();
    std::vector<std::string> lost;
    for (std::size_t first = 0; first < updates.size();) {
        const std::span<const OutboxUpdate> run =
            updates.subspan(first, run_end(updates, first) - first);
        first += run.size();
        ArrayParam ids, leases, dues, attempts;
        for (const OutboxUpdate& u : run) {
            ids.text(u.delivery_id);
            leases.optional_int64(u.lease ? std::optional(nanos(*u.lease)) : std::nullopt);
            dues.int64(nanos(u.due));
            attempts.int64(u.attempts);
        }
        const Result changed =
            c.exec(statements[static_cast<std::size_t>(run.front().kind)],
                   Params().array(ids).array(leases).array(dues).array(attempts));
        std::unordered_set<std::string_view> settled;
        for (int i = 0; i < changed.rows(); ++i)
            settled.insert(changed.text(i, 0));
        for (const OutboxUpdate& u : run)
            if (u.lease && !settled.contains(u.delivery_id))
                lost.push_back(u.delivery_id);
    }
    return lost;
}

std::vector<std::string> OutboxTable::settle(std::span<const OutboxUpdate> updates) {
    return pool_.transact([&](Connection& c) { return settle_in(c, updates); });
}

bool OutboxTable::replay(std::string_view delivery_id, Timestamp due) {
    return pool_.run([&](Connection& c) {
        return c.exec(
                    "UPDATE outbox SET dead_seq = NULL, ready_at = $2, due = $2,"
                    " round_start = attempts WHERE firing_id = $1 AND dead_seq IS NOT NULL",
                    Params().text(delivery_id).int64(nanos(due)))
                   .changed() > 0;
    });
}

std::optional<Timestamp> OutboxTable::next_due_in(Connection& c) {
    const Result r =
        c.exec("SELECT ready_at FROM outbox WHERE dead_seq IS NULL ORDER BY ready_at, seq LIMIT 1");
    if (r.rows() == 0)
        return std::nullopt;
    return timestamp(r.int64(0, 0));
}

std::optional<Timestamp> OutboxTable::next_due() const {
    return pool_.run([&](Connection& c) { return next_due_in(c); });
}

std::vector<Delivery> OutboxTable::dead_letters(std::size_t limit) const {
    const Result r = pool_.run([&](Connection& c) {
        return c.exec(
            std::string(select_deliveries) +
                "WHERE o.dead_seq IS NOT NULL ORDER BY o.dead_seq LIMIT $1",
            Params().int64(static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX))));
    });
    std::vector<Delivery> out;
    for (int i = 0; i < r.rows(); ++i)
        out.push_back(delivery_of(r, i));
    return out;
}

std::size_t OutboxTable::dead_count() const {
    const Result r = pool_.run([&](Connection& c) {
        return c.exec("SELECT count(*) FROM outbox WHERE dead_seq IS NOT NULL");
    });
    return static_cast<std::size_t>(r.int64(0, 0));
}

std::size_t OutboxTable::pending_count() const {
    const Result r = pool_.run([&](Connection& c) {
        return c.exec("SELECT count(*) FROM outbox WHERE dead_seq IS NULL");
    });
    return static_cast<std::size_t>(r.int64(0, 0));
}

}  // namespace herald::detail::postgres
