// The history and the outbox: firings by id with their deliveries beside them, claimed with
// row locks that other claimers skip.
#include "codec/storage_codec.hpp"
#include "postgres/stores.hpp"
#include "storage/firing_counts.hpp"
#include "storage/firing_update.hpp"

#include <herald/error.hpp>

#include <algorithm>
#include <array>
#include <climits>
#include <string_view>

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

std::optional<Firing> find_in(Connection& c, std::string_view firing_id, bool lock) {
    const Result r =
        c.exec(lock ? "SELECT " HERALD_FIRING_COLUMNS " FROM firings f WHERE id = $1 FOR UPDATE"
                    : "SELECT " HERALD_FIRING_COLUMNS " FROM firings f WHERE id = $1",
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

constexpr const char* insert_firing =
    "INSERT INTO firings (id, automation_id, entity, integration, time, body, action, trigger) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING";

/// The parameters of `insert_firing`: the firing, and the delivery recorded with it, if any.
Params firing_params(const Firing& f, const Delivery* delivery) {
    Params p;
    p.text(f.id)
        .text(f.automation_id)
        .text(f.event.entity)
        .text(f.integration)
        .int64(nanos(f.time))
        .text(codec::firing_document(f));
    if (delivery)
        p.text(codec::action_to_json(delivery->action)).text(to_string(delivery->trigger));
    else
        p.null().null();
    return p;
}

}  // namespace

// ---- history ----

void HistoryTable::insert(Connection& c, std::span<const Firing> firings,
                          std::span<const Delivery> deliveries) {
    // One event's firings, and at most one delivery each: a search beats an index here.
    for (const Firing& f : firings) {
        const auto it = std::find_if(deliveries.begin(), deliveries.end(),
                                     [&](const Delivery& d) { return d.firing.id == f.id; });
        const Delivery* d = it == deliveries.end() ? nullptr : &*it;
        if (c.exec(insert_firing, firing_params(f, d)).changed() == 0)
            throw Error(errc::already_exists, "id",
                        "firing '" + f.id + "' is already in the history");
    }
}

void HistoryTable::insert_missing(Connection& c, const Delivery& delivery) {
    c.exec(insert_firing, firing_params(delivery.firing, &delivery));
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
    for (const FiringUpdate& u : updates) {
        std::optional<Firing> f = find_in(c, u.firing_id, true);
        if (!f)
            continue;
        apply_update(*f, u);
        c.exec("UPDATE firings SET body = $2 WHERE id = $1",
               Params().text(u.firing_id).text(codec::firing_document(*f)));
    }
}

void HistoryTable::append(std::span<const Firing> firings) {
    pool_.transact([&](Connection& c) { insert(c, firings); });
}

void HistoryTable::update(std::span<const FiringUpdate> updates) {
    pool_.transact([&](Connection& c) { update_in(c, updates); });
}

std::optional<Firing> HistoryTable::find(std::string_view firing_id) const {
    return pool_.run([&](Connection& c) { return find_in(c, firing_id, false); });
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

void OutboxTable::insert(Connection& c, std::span<const Delivery> deliveries) {
    for (const Delivery& d : deliveries) {
        const Result r = c.exec(
            "INSERT INTO outbox (firing_id, seq, ready_at, due, attempts, round_start, action, "
            "trigger) SELECT $1, seq, $2, $2, $3, $4, $5, $6 FROM firings WHERE id = $1 "
            "ON CONFLICT (firing_id) DO NOTHING",
            Params()
                .text(d.firing.id)
                .int64(nanos(d.due))
                .int64(d.attempts)
                .int64(d.round_start)
                .text(codec::action_to_json(d.action))
                .text(to_string(d.trigger)));
        if (r.changed() == 0)
            throw Error(errc::already_exists, "delivery_id",
                        "delivery '" + d.firing.id + "' is already in the outbox");
    }
}

void OutboxTable::enqueue(std::span<const Delivery> deliveries) {
    pool_.transact([&](Connection& c) {
        for (const Delivery& d : deliveries)
            HistoryTable::insert_missing(c, d);
        insert(c, deliveries);
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

std::vector<std::string> OutboxTable::settle_in(Connection& c,
                                                std::span<const OutboxUpdate> updates) {
    // $1 the delivery, $2 its lease (null: whoever holds it), then the new time and attempts;
    // by kind (complete, reschedule, dead_letter, renew), made once, not per update.
    static const std::array<std::string, 4> statements = [] {
        constexpr const char* waiting =
            " WHERE firing_id = $1 AND dead_seq IS NULL AND ($2::bigint IS NULL OR ready_at = $2)";
        return std::array<std::string, 4>{
            std::string("DELETE FROM outbox") + waiting,
            std::string("UPDATE outbox SET ready_at = $3, due = $3, attempts = $4") + waiting,
            std::string("UPDATE outbox SET attempts = $3, dead_seq = nextval('dead_letter_seq')") +
                waiting,
            std::string("UPDATE outbox SET ready_at = $3") + waiting};
    }();
    std::vector<std::string> lost;
    for (const OutboxUpdate& u : updates) {
        const std::string& sql = statements[static_cast<std::size_t>(u.kind)];
        Params p;
        p.text(u.delivery_id)
            .optional_int64(u.lease ? std::optional(nanos(*u.lease)) : std::nullopt);
        if (u.kind == OutboxUpdate::Kind::reschedule || u.kind == OutboxUpdate::Kind::renew)
            p.int64(nanos(u.due));
        if (u.kind == OutboxUpdate::Kind::reschedule || u.kind == OutboxUpdate::Kind::dead_letter)
            p.int64(u.attempts);
        if (c.exec(sql, p).changed() == 0 && u.lease)
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
