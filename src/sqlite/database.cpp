#include "codec/storage_codec.hpp"
#include "sqlite/core.hpp"
#include "storage/firing_counts.hpp"
#include "storage/firing_update.hpp"
#include "storage/new_deliveries.hpp"
#include "storage/prune.hpp"
#include "storage/published_events.hpp"
#include "storage/streak_changes.hpp"
#include "storage/trigger_state_changes.hpp"

#include <herald/automation_json.hpp>
#include <herald/error.hpp>
#include <herald/sqlite/database.hpp>

#include <array>
#include <string>
#include <utility>

namespace herald::sqlite {
namespace {

using detail::codec::nanos;
using detail::codec::timestamp;
using detail::sqlite::Connection;
using detail::sqlite::Core;
using detail::sqlite::Query;

/// Runs `decode` on a document read from the file, naming the file when it is malformed.
template <class Decode>
auto decoded(const Core& core, Decode&& decode) {
    try {
        return decode();
    } catch (const Error& e) {
        throw Error(errc::storage_failure, "", core.path() + ": " + e.reason());
    }
}

/// The documents of `items`, encoded before a write so the transaction holds the write lock
/// only for the inserts.
template <class T, class Encode>
std::vector<std::string> encode_all(std::span<const T> items, Encode encode) {
    std::vector<std::string> out;
    out.reserve(items.size());
    for (const T& item : items)
        out.push_back(encode(item));
    return out;
}

class SqliteAutomationStore final : public AutomationStore {
  public:
    explicit SqliteAutomationStore(Core& core) : core_(core) {}

    void insert(const Automation& automation) override {
        const std::string body = to_json(automation);
        core_.write([&](Connection& c) {
            Query q(c, "INSERT OR IGNORE INTO automations (id, body) VALUES (?1, ?2)");
            q->bind(1, automation.id).bind(2, body).run();
            if (c.changes() == 0)
                throw Error(errc::already_exists, "id",
                            "automation id '" + automation.id + "' is taken");
        });
    }
    void update(const Automation& automation) override {
        const std::string body = to_json(automation);
        core_.write([&](Connection& c) {
            Query q(c, "UPDATE automations SET body = ?2 WHERE id = ?1");
            q->bind(1, automation.id).bind(2, body).run();
            if (c.changes() == 0)
                throw Error(errc::not_found, "id", "no automation with id '" + automation.id + "'");
        });
    }
    bool erase(std::string_view id) override {
        bool erased = false;
        core_.write([&](Connection& c) {
            Query(c, "DELETE FROM automations WHERE id = ?1")->bind(1, id).run();
            erased = c.changes() > 0;
        });
        return erased;
    }
    std::optional<Automation> find(std::string_view id) const override {
        return core_.read([&](Connection& c) -> std::optional<Automation> {
            Query q(c, "SELECT body FROM automations WHERE id = ?1");
            if (!q->bind(1, id).step())
                return std::nullopt;
            return decode(q->text(0));
        });
    }
    std::vector<Automation> all() const override {
        return core_.read([&](Connection& c) {
            std::vector<Automation> out;
            Query q(c, "SELECT body FROM automations ORDER BY id");
            while (q->step())
                out.push_back(decode(q->text(0)));
            return out;
        });
    }

  private:
    Automation decode(std::string_view body) const {
        return decoded(core_, [&] { return automation_from_json(body); });
    }
    Core& core_;
};

/// A firing to append to the history and, when it has one, the delivery enqueued with it: such
/// a delivery is kept in the firing's row until the dispatcher takes it (see
/// SqliteOutboxStore).
struct NewFiring {
    const Firing* firing;
    const std::string* document;  ///< firing_document(*firing)
    const NewDelivery* delivery = nullptr;
    const std::string* action = nullptr;  ///< action_to_json(delivery->action)
};

/// The columns a firing is read from, in this order (`firing_of`).
constexpr std::string_view firing_columns = "f.id, f.automation_id, f.integration, f.time, f.body";

class SqliteHistoryStore final : public HistoryStore {
  public:
    explicit SqliteHistoryStore(Core& core) : core_(core) {}

    /// Inside a write transaction: appends the firings; their rows' seq, in order.
    static std::vector<std::int64_t> insert(Connection& c, std::span<const NewFiring> rows) {
        Query q(c,
                "INSERT OR IGNORE INTO firings (id, automation_id, entity, integration, time, "
                "body, action, trigger, due) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
        std::vector<std::int64_t> seqs;
        seqs.reserve(rows.size());
        for (const NewFiring& row : rows) {
            const Firing& f = *row.firing;
            q->bind(1, f.id)
                .bind(2, f.automation_id)
                .bind(3, f.event.entity)
                .bind(4, f.integration)
                .bind(5, nanos(f.time))
                .bind(6, *row.document);
            if (row.delivery)
                q->bind(7, *row.action)
                    .bind(8, to_string(row.delivery->trigger))
                    .bind(9, nanos(row.delivery->due));
            q->run();
            q->reset();
            if (c.changes() == 0)
                throw Error(errc::already_exists, "id",
                            "firing '" + f.id + "' is already in the history");
            seqs.push_back(c.last_insert_rowid());
        }
        return seqs;
    }
    /// Inside a write transaction: the seq of `firing`'s row, appending it when the history
    /// does not have it.
    static std::int64_t row_of(Connection& c, const Firing& firing) {
        Query q(c, "SELECT seq FROM firings WHERE id = ?1");
        if (q->bind(1, firing.id).step())
            return q->int64(0);
        const std::string document = detail::codec::firing_document(firing);
        const NewFiring row{.firing = &firing, .document = &document};
        return insert(c, {&row, 1}).front();
    }

    std::optional<RecordedAction> recorded_action(std::string_view firing_id) const override {
        return core_.read([&](Connection& c) -> std::optional<RecordedAction> {
            // Recorded with the firing, or else enqueued on its own into the outbox table.
            Query q(c,
                    "SELECT coalesce(f.action, o.action), coalesce(f.trigger, o.trigger) "
                    "FROM firings f LEFT JOIN outbox o ON o.seq = f.seq WHERE f.id = ?1");
            if (!q->bind(1, firing_id).step() || q->is_null(0))
                return std::nullopt;
            return decoded(core_, [&] {
                return RecordedAction{.action = detail::codec::action_from_json(q->text(0)),
                                      .trigger = detail::codec::trigger_named(q->text(1))};
            });
        });
    }

    void append(std::span<const Firing> firings) override {
        const auto documents = encode_all(firings, detail::codec::firing_document);
        std::vector<NewFiring> rows;
        rows.reserve(firings.size());
        for (std::size_t i = 0; i < firings.size(); ++i)
            rows.push_back({.firing = &firings[i], .document = &documents[i]});
        core_.write([&](Connection& c) { insert(c, rows); });
    }
    /// Inside a write transaction: applies `updates` in order.
    static void update_in(const Core& core, Connection& c, std::span<const FiringUpdate> updates) {
        for (const FiringUpdate& u : updates) {
            std::optional<Firing> f = find_in(core, c, u.firing_id);
            if (!f)
                continue;
            detail::apply_update(*f, u);
            Query(c, "UPDATE firings SET body = ?2 WHERE id = ?1")
                ->bind(1, u.firing_id)
                .bind(2, detail::codec::firing_document(*f))
                .run();
        }
    }
    void update(std::span<const FiringUpdate> updates) override {
        core_.write([&](Connection& c) { update_in(core_, c, updates); });
    }
    std::optional<Firing> find(std::string_view firing_id) const override {
        return core_.read([&](Connection& c) { return find_in(core_, c, firing_id); });
    }
    /// Inside a write transaction: remembers a published event's id (with `firing_ids`, the
    /// text of `detail::firing_ids_text`); refuses one remembered already.
    static void remember_event_in(Connection& c, std::string_view event_id, Timestamp time,
                                  const std::string& firing_ids) {
        Query(c,
              "INSERT OR IGNORE INTO published_events (event_id, time, firings) "
              "VALUES (?1, ?2, ?3)")
            ->bind(1, event_id)
            .bind(2, nanos(time))
            .bind(3, firing_ids)
            .run();
        if (c.changes() == 0)
            throw detail::already_published(event_id);
    }
    void remember_event(std::string_view event_id, Timestamp time,
                        std::span<const Firing> firings) override {
        const std::string ids = detail::firing_ids_text(firings);
        core_.write([&](Connection& c) { remember_event_in(c, event_id, time, ids); });
    }
    std::optional<std::vector<Firing>> event_firings(std::string_view event_id) const override {
        return core_.read([&](Connection& c) -> std::optional<std::vector<Firing>> {
            Query q(c, "SELECT firings FROM published_events WHERE event_id = ?1");
            if (!q->bind(1, event_id).step())
                return std::nullopt;
            const std::vector<std::string> ids =
                decoded(core_, [&] { return detail::firing_ids_of(q->text(0)); });
            std::vector<Firing> out;
            for (const std::string& id : ids)
                if (std::optional<Firing> f = find_in(core_, c, id))
                    out.push_back(std::move(*f));
            return out;
        });
    }
    std::vector<Firing> query(const HistoryQuery& q) const override {
        const std::string sql = "SELECT " + std::string(firing_columns) + " FROM firings f" +
                                where_of(q) + " ORDER BY seq DESC LIMIT ?9";
        return core_.read([&](Connection& c) {
            Query s(c, sql);
            bind_filter(*s, q);
            s->bind(9, static_cast<std::int64_t>(std::min<std::size_t>(q.limit, INT64_MAX)));
            std::vector<Firing> out;
            while (s->step())
                out.push_back(firing_of(core_, *s, 0));
            return out;
        });
    }
    FiringCounts count_firings(const HistoryQuery& q) const override {
        const std::string sql = "SELECT json_extract(body, '$.status'), count(*) FROM firings f" +
                                where_of(q) + " GROUP BY 1";
        return core_.read([&](Connection& c) {
            Query s(c, sql);
            bind_filter(*s, q);
            FiringCounts counts = detail::no_firings();
            while (s->step()) {
                const FiringStatus status =
                    decoded(core_, [&] { return detail::codec::status_named(s->text(0)); });
                detail::count_of(counts, status) = static_cast<std::size_t>(s->int64(1));
            }
            return counts;
        });
    }

    /// The firing in columns `first`, ... of `row`, selected as `firing_columns`.
    static Firing firing_of(const Core& core, const detail::sqlite::Statement& row, int first,
                            detail::codec::FiringFields fields = detail::codec::FiringFields::all) {
        Firing f{.id = std::string(row.text(first)),
                 .automation_id = std::string(row.text(first + 1)),
                 .time = timestamp(row.int64(first + 3)),
                 .integration = std::string(row.text(first + 2))};
        decoded(core, [&] {
            detail::codec::read_firing_document(row.text(first + 4), f, fields);
            return 0;
        });
        return f;
    }

  private:
    /// The WHERE clause of the firings `q` selects (its limit aside), parameters ?1 to ?8: one
    /// statement per combination of filters, so each can use its index. The project and the
    /// status are read from the document: they narrow what an indexed filter found.
    static std::string where_of(const HistoryQuery& q) {
        std::string sql = " WHERE 1";
        if (!q.automation_id.empty())
            sql += " AND automation_id = ?1";
        if (!q.entity.empty())
            sql += " AND entity = ?2";
        if (!q.integration.empty())  // `<> ''` lets SQLite use the partial index
            sql += " AND integration = ?3 AND integration <> ''";
        if (q.from)
            sql += " AND time >= ?4";
        if (q.until)
            sql += " AND time < ?5";
        if (!q.project.empty())
            sql += " AND json_extract(body, '$.event.project') = ?6";
        if (q.status)
            sql += " AND json_extract(body, '$.status') = ?7";
        if (!q.before.empty())
            sql += " AND seq < (SELECT seq FROM firings WHERE id = ?8)";
        return sql;
    }
    /// Binds what `where_of(q)` names.
    static void bind_filter(detail::sqlite::Statement& s, const HistoryQuery& q) {
        if (!q.automation_id.empty())
            s.bind(1, q.automation_id);
        if (!q.entity.empty())
            s.bind(2, q.entity);
        if (!q.integration.empty())
            s.bind(3, q.integration);
        if (q.from)
            s.bind(4, nanos(*q.from));
        if (q.until)
            s.bind(5, nanos(*q.until));
        if (!q.project.empty())
            s.bind(6, q.project);
        if (q.status)
            s.bind(7, to_string(*q.status));
        if (!q.before.empty())
            s.bind(8, q.before);
    }

    inline static const std::string select_by_id =
        "SELECT " + std::string(firing_columns) + " FROM firings f WHERE id = ?1";

    static std::optional<Firing> find_in(const Core& core, Connection& c,
                                         std::string_view firing_id) {
        Query q(c, select_by_id);
        if (!q->bind(1, firing_id).step())
            return std::nullopt;
        return firing_of(core, *q, 0);
    }
    Core& core_;
};

class SqliteIntegrationStore final : public IntegrationStore {
  public:
    explicit SqliteIntegrationStore(Core& core) : core_(core) {}

    void insert(const Integration& integration) override {
        const std::string body = detail::codec::integration_to_json(integration);
        core_.write([&](Connection& c) {
            Query q(c,
                    "INSERT OR IGNORE INTO integrations (entity, name, body) VALUES (?1, ?2, ?3)");
            q->bind(1, integration.entity()).bind(2, integration.name()).bind(3, body).run();
            if (c.changes() == 0)
                throw Error(errc::already_exists, "integration.name",
                            "entity '" + integration.entity() +
                                "' already has an integration named '" + integration.name() + "'");
        });
    }
    void update(const Integration& integration) override {
        const std::string body = detail::codec::integration_to_json(integration);
        core_.write([&](Connection& c) {
            Query q(c, "UPDATE integrations SET body = ?3 WHERE entity = ?1 AND name = ?2");
            q->bind(1, integration.entity()).bind(2, integration.name()).bind(3, body).run();
            if (c.changes() == 0)
                throw Error(errc::not_found, "integration.name",
                            "entity '" + integration.entity() + "' has no integration named '" +
                                integration.name() + "'");
        });
    }
    bool erase(std::string_view entity, std::string_view name) override {
        bool erased = false;
        core_.write([&](Connection& c) {
            Query(c, "DELETE FROM integrations WHERE entity = ?1 AND name = ?2")
                ->bind(1, entity)
                .bind(2, name)
                .run();
            erased = c.changes() > 0;
            Query(c, "DELETE FROM integration_streaks WHERE entity = ?1 AND name = ?2")
                ->bind(1, entity)
                .bind(2, name)
                .run();
        });
        return erased;
    }
    std::optional<Integration> find(std::string_view entity, std::string_view name) const override {
        return core_.read([&](Connection& c) -> std::optional<Integration> {
            Query q(c, "SELECT body FROM integrations WHERE entity = ?1 AND name = ?2");
            if (!q->bind(1, entity).bind(2, name).step())
                return std::nullopt;
            return decode(q->text(0));
        });
    }
    std::vector<Integration> list(std::string_view entity) const override {
        return core_.read([&](Connection& c) {
            std::vector<Integration> out;
            Query q(c, "SELECT body FROM integrations WHERE entity = ?1 ORDER BY name");
            q->bind(1, entity);
            while (q->step())
                out.push_back(decode(q->text(0)));
            return out;
        });
    }

    std::vector<FailingStreak> update_streaks(std::span<const StreakUpdate> updates) override {
        std::vector<FailingStreak> failing;
        core_.write([&](Connection& c) { failing = update_streaks_in(c, updates); });
        return failing;
    }
    std::optional<Timestamp> failing_since(std::string_view entity,
                                           std::string_view name) const override {
        return core_.read([&](Connection& c) { return since_in(c, entity, name); });
    }

    /// Inside a write transaction: what `update_streaks` does. Sets, not adds to, its result,
    /// as a group commit may run it twice.
    static std::vector<FailingStreak> update_streaks_in(Connection& c,
                                                        std::span<const StreakUpdate> updates) {
        std::vector<FailingStreak> failing;
        for (const detail::StreakChange& change : detail::streak_changes(updates)) {
            if (change.ends)
                Query(c, "DELETE FROM integration_streaks WHERE entity = ?1 AND name = ?2")
                    ->bind(1, change.entity)
                    .bind(2, change.integration)
                    .run();
            if (!change.failed_at)
                continue;
            Query(c,
                  "INSERT INTO integration_streaks (entity, name, since) VALUES (?1, ?2, ?3) "
                  "ON CONFLICT DO NOTHING")
                ->bind(1, change.entity)
                .bind(2, change.integration)
                .bind(3, nanos(*change.failed_at))
                .run();
            failing.push_back({.entity = std::string(change.entity),
                               .integration = std::string(change.integration),
                               .since = *since_in(c, change.entity, change.integration)});
        }
        return failing;
    }

  private:
    static std::optional<Timestamp> since_in(Connection& c, std::string_view entity,
                                             std::string_view name) {
        Query q(c, "SELECT since FROM integration_streaks WHERE entity = ?1 AND name = ?2");
        if (!q->bind(1, entity).bind(2, name).step())
            return std::nullopt;
        return timestamp(q->int64(0));
    }
    Integration decode(std::string_view body) const {
        return decoded(core_, [&] { return detail::codec::integration_from_json(body); });
    }
    Core& core_;
};

/// The outbox has two parts. A delivery enqueued with its firing (`record_publish`, what
/// publishing does) is kept in the firing's history row: publishing appends one row and
/// touches no outbox index. The rows past `outbox_cursor` that carry an action are those
/// deliveries, due in the order they were recorded. Claiming takes them into the `outbox`
/// table (leased) and moves the cursor past them; every later state of a delivery — leased,
/// rescheduled, dead, replayed — and a delivery enqueued on its own live in that table, ordered
/// by `ready_at`.
class SqliteOutboxStore final : public OutboxStore {
  public:
    explicit SqliteOutboxStore(Core& core) : core_(core) {}

    /// Inside a write transaction, with `actions[i]` the document of `deliveries[i].action`
    /// and `seqs[i]` the history row of its firing: adds the deliveries to the outbox table.
    static void insert(Connection& c, std::span<const Delivery> deliveries,
                       std::span<const std::int64_t> seqs,
                       const std::vector<std::string>& actions) {
        Query queued(c,
                     "SELECT 1 FROM firings WHERE seq = ?1 AND action IS NOT NULL AND seq > "
                     "(SELECT seq FROM outbox_cursor)");
        Query q(c,
                "INSERT OR IGNORE INTO outbox (seq, ready_at, due, attempts, round_start, action, "
                "trigger) VALUES (?1, ?2, ?2, ?3, ?4, ?5, ?6)");
        for (std::size_t i = 0; i < deliveries.size(); ++i) {
            const Delivery& d = deliveries[i];
            const bool recorded = queued->bind(1, seqs[i]).step();
            queued->reset();
            if (!recorded)
                q->bind(1, seqs[i])
                    .bind(2, nanos(d.due))
                    .bind(3, std::int64_t{d.attempts})
                    .bind(4, std::int64_t{d.round_start})
                    .bind(5, actions[i])
                    .bind(6, to_string(d.trigger))
                    .run();
            q->reset();
            if (recorded || c.changes() == 0)
                throw Error(errc::already_exists, "delivery_id",
                            "delivery '" + d.firing.id + "' is already in the outbox");
        }
    }

    /// A delivery's firing is its history record, which it is appended to when missing.
    void enqueue(std::span<const Delivery> deliveries) override {
        const auto actions = encode_all(deliveries, action_document);
        core_.write([&](Connection& c) {
            std::vector<std::int64_t> seqs;
            seqs.reserve(deliveries.size());
            for (const Delivery& d : deliveries)
                seqs.push_back(SqliteHistoryStore::row_of(c, d.firing));
            insert(c, deliveries, seqs, actions);
        });
    }
    std::vector<Delivery> claim(Timestamp now, std::size_t limit, Timestamp lease_until) override {
        std::vector<Delivery> out;
        core_.write([&](Connection& c) { out = claim_in(core_, c, now, limit, lease_until); });
        return out;
    }
    /// Inside a write transaction: what `claim` does. Sets its result rather than adding to
    /// one, so a group commit may run it again.
    static std::vector<Delivery> claim_in(const Core& core, Connection& c, Timestamp now,
                                          std::size_t limit, Timestamp lease_until) {
        std::vector<Delivery> out;
        {
            const auto n = static_cast<std::int64_t>(limit);
            const std::int64_t cursor = c.scalar("SELECT seq FROM outbox_cursor");
            const std::vector<Due> waiting = due_rows(c, R"sql(
                SELECT seq, ready_at FROM outbox WHERE dead_seq IS NULL AND ready_at <= ?1
                ORDER BY ready_at, seq LIMIT ?2)sql",
                                                      nanos(now), n);
            const std::vector<Due> recorded = due_rows(c, R"sql(
                SELECT seq, due FROM firings WHERE seq > ?1 AND action IS NOT NULL
                ORDER BY seq LIMIT ?2)sql",
                                                       cursor, n);
            // Earliest first from both parts; the recorded ones in their order, while due. Each
            // one taken is leased in the outbox table, where the next query reads them all.
            std::vector<std::int64_t> taken;
            std::size_t w = 0, r = 0;
            while (taken.size() < limit) {
                if (r < recorded.size() && recorded[r].ready_at <= nanos(now) &&
                    (w == waiting.size() || recorded[r].ready_at < waiting[w].ready_at)) {
                    Query(c, R"sql(
                        INSERT INTO outbox (seq, ready_at, due, attempts, round_start, action, trigger)
                        SELECT seq, ?2, due, 0, 0, action, trigger FROM firings WHERE seq = ?1)sql")
                        ->bind(1, recorded[r].seq)
                        .bind(2, nanos(lease_until))
                        .run();
                    taken.push_back(recorded[r++].seq);
                } else if (w < waiting.size()) {
                    Query(c, "UPDATE outbox SET ready_at = ?2 WHERE seq = ?1")
                        ->bind(1, waiting[w].seq)
                        .bind(2, nanos(lease_until))
                        .run();
                    taken.push_back(waiting[w++].seq);
                } else {
                    break;
                }
            }
            // Past what was taken, or, when every recorded one was, past the whole history:
            // later claims do not look at firings without a delivery again.
            const std::int64_t next = r == recorded.size() && recorded.size() < limit
                                          ? c.scalar("SELECT coalesce(max(seq), 0) FROM firings")
                                          : (r > 0 ? recorded[r - 1].seq : cursor);
            if (next != cursor)
                Query(c, "UPDATE outbox_cursor SET seq = ?1")->bind(1, next).run();
            Query q(c, select_deliveries + "WHERE o.seq = ?1");
            for (std::int64_t seq : taken) {
                if (q->bind(1, seq).step())
                    out.push_back(delivery_of(core, *q));
                q->reset();
            }
        }
        return out;
    }
    std::vector<std::string> settle(std::span<const OutboxUpdate> updates) override {
        std::vector<std::string> lost;
        core_.write([&](Connection& c) { lost = settle_in(c, updates); });
        return lost;
    }
    /// Inside a write transaction: what `settle` does. Returns a result rather than adding to
    /// one, so a group commit may run it again.
    static std::vector<std::string> settle_in(Connection& c,
                                              std::span<const OutboxUpdate> updates) {
        std::vector<std::string> lost;
        for (const OutboxUpdate& u : updates)
            if (!settle_one(c, u) && u.lease)
                lost.push_back(u.delivery_id);
        return lost;
    }
    bool replay(std::string_view delivery_id, Timestamp due) override {
        bool replayed = false;
        core_.write([&](Connection& c) {
            Query(c, R"sql(
                UPDATE outbox SET dead_seq = NULL, ready_at = ?2, due = ?2, round_start = attempts
                WHERE seq = (SELECT seq FROM firings WHERE id = ?1) AND dead_seq IS NOT NULL)sql")
                ->bind(1, delivery_id)
                .bind(2, nanos(due))
                .run();
            replayed = c.changes() > 0;
        });
        return replayed;
    }
    std::optional<Timestamp> next_due() const override {
        return core_.read([&](Connection& c) { return next_due_in(c); });
    }
    /// What `next_due` reads, on `c`.
    static std::optional<Timestamp> next_due_in(Connection& c) {
        {
            Query q(c, R"sql(
                SELECT min(t) FROM (
                    SELECT ready_at AS t FROM (SELECT ready_at FROM outbox WHERE dead_seq IS NULL
                                               ORDER BY ready_at LIMIT 1)
                    UNION ALL
                    SELECT due FROM (SELECT due FROM firings
                                     WHERE seq > (SELECT seq FROM outbox_cursor)
                                       AND action IS NOT NULL ORDER BY seq LIMIT 1)))sql");
            if (!q->step() || q->is_null(0))
                return std::nullopt;
            return timestamp(q->int64(0));
        }
    }
    std::vector<Delivery> dead_letters(std::size_t limit) const override {
        return core_.read([&](Connection& c) {
            std::vector<Delivery> out;
            Query q(
                c, select_deliveries + "WHERE o.dead_seq IS NOT NULL ORDER BY o.dead_seq LIMIT ?1");
            q->bind(1, static_cast<std::int64_t>(limit));
            while (q->step())
                out.push_back(delivery_of(core_, *q));
            return out;
        });
    }
    std::size_t dead_count() const override {
        return core_.read([&](Connection& c) {
            return static_cast<std::size_t>(
                c.scalar("SELECT count(*) FROM outbox WHERE dead_seq IS NOT NULL"));
        });
    }

    std::size_t pending_count() const override {
        return core_.read([&](Connection& c) {
            return static_cast<std::size_t>(c.scalar(R"sql(
                SELECT (SELECT count(*) FROM outbox WHERE dead_seq IS NULL)
                     + (SELECT count(*) FROM firings WHERE seq > (SELECT seq FROM outbox_cursor)
                                                       AND action IS NOT NULL))sql"));
        });
    }

    static std::string action_document(const Delivery& d) {
        return detail::codec::action_to_json(d.action);
    }

  private:
    /// A delivery a claim may take: its row and when it is due (or its lease ends).
    struct Due {
        std::int64_t seq, ready_at;
    };

    // Deliveries with their firings, as `delivery_of` reads them: seq, ready_at, due, attempts,
    // round_start, action, trigger, then the firing's columns.
    inline static const std::string select_deliveries =
        "SELECT o.seq, o.ready_at, o.due, o.attempts, o.round_start, o.action, o.trigger, " +
        std::string(firing_columns) + " FROM outbox o JOIN firings f ON f.seq = o.seq ";

    /// The rows of `sql`, whose two parameters are `first` and `limit`.
    static std::vector<Due> due_rows(Connection& c, std::string_view sql, std::int64_t first,
                                     std::int64_t limit) {
        std::vector<Due> out;
        Query q(c, sql);
        q->bind(1, first).bind(2, limit);
        while (q->step())
            out.push_back({.seq = q->int64(0), .ready_at = q->int64(1)});
        return out;
    }
    /// Settles the delivery whose firing has id ?1 (the delivery id), while it waits and, when
    /// the update has a lease, while it is leased until ?2; false when no row changed.
    static bool settle_one(Connection& c, const OutboxUpdate& u) {
        // By kind (complete, reschedule, dead_letter, renew); made once, not per update.
        static const std::array<std::string, 4> statements = [] {
            constexpr const char* waiting =
                " WHERE seq = (SELECT seq FROM firings WHERE id = ?1) AND dead_seq IS NULL"
                " AND (?2 IS NULL OR ready_at = ?2)";
            return std::array<std::string, 4>{
                std::string("DELETE FROM outbox") + waiting,
                std::string("UPDATE outbox SET ready_at = ?3, due = ?3, attempts = ?4") + waiting,
                std::string("UPDATE outbox SET attempts = ?4, dead_seq = (SELECT coalesce(max("
                            "dead_seq), 0) + 1 FROM outbox WHERE dead_seq IS NOT NULL)") +
                    waiting,
                std::string("UPDATE outbox SET ready_at = ?3") + waiting};
        }();
        const std::string& sql = statements[static_cast<std::size_t>(u.kind)];
        Query q(c, sql);
        q->bind(1, u.delivery_id).bind(2, u.lease ? std::optional(nanos(*u.lease)) : std::nullopt);
        if (u.kind == OutboxUpdate::Kind::reschedule || u.kind == OutboxUpdate::Kind::renew)
            q->bind(3, nanos(u.due));
        if (u.kind == OutboxUpdate::Kind::reschedule || u.kind == OutboxUpdate::Kind::dead_letter)
            q->bind(4, std::int64_t{u.attempts});
        q->run();
        return c.changes() > 0;
    }
    static Delivery delivery_of(const Core& core, const detail::sqlite::Statement& row) {
        return Delivery{
            .firing =
                SqliteHistoryStore::firing_of(core, row, 7, detail::codec::FiringFields::as_fired),
            .action = decoded(core, [&] { return detail::codec::action_from_json(row.text(5)); }),
            .trigger = decoded(core, [&] { return detail::codec::trigger_named(row.text(6)); }),
            .attempts = static_cast<int>(row.int64(3)),
            .round_start = static_cast<int>(row.int64(4)),
            .due = timestamp(row.int64(2))};
    }
    Core& core_;
};

/// The condition columns 2..5 of a trigger_runs row (condition_state, condition_streak,
/// condition_since, condition_fired).
ConditionProgress condition_of(const detail::sqlite::Statement& row) {
    const auto state = condition_state_from_string(row.text(2));
    if (!state)
        throw Error(errc::storage_failure, "condition_state",
                    "unknown trigger condition state '" + std::string(row.text(2)) + "'");
    ConditionProgress progress{.state = *state,
                               .streak = static_cast<std::uint64_t>(row.int64(3)),
                               .fired = row.int64(5) != 0};
    if (!row.is_null(4))
        progress.holding_since = timestamp(row.int64(4));
    return progress;
}

class SqliteTriggerStateStore final : public TriggerStateStore {
  public:
    explicit SqliteTriggerStateStore(Core& core) : core_(core) {}

    /// Inside a write transaction: what `apply` does.
    static void apply_in(Connection& c, std::span<const TriggerStateChange> changes) {
        detail::apply_changes_in<SqliteTriggerStateStore>(c, changes);
    }
    void apply(std::span<const TriggerStateChange> changes) override {
        core_.write([&](Connection& c) { apply_in(c, changes); });
    }
    void append_values(const TriggerStateKey& key, std::span<const double> values,
                       std::int64_t step, std::size_t keep) override {
        core_.write([&](Connection& c) { append_values_in(c, key, values, step, keep); });
    }
    void record_firing(const TriggerStateKey& key, Timestamp time) override {
        core_.write([&](Connection& c) { record_firing_in(c, key, time); });
    }
    void save_condition(const TriggerStateKey& key, const ConditionProgress& progress) override {
        core_.write([&](Connection& c) { save_condition_in(c, key, progress); });
    }
    std::optional<RunTriggerState> load(const TriggerStateKey& key) const override {
        return core_.read([&](Connection& c) -> std::optional<RunTriggerState> {
            Query run(c,
                      "SELECT last_step, last_fired, condition_state, condition_streak, "
                      "condition_since, condition_fired FROM trigger_runs "
                      "WHERE automation_id = ?1 AND run_id = ?2");
            if (!run->bind(1, key.automation_id).bind(2, key.run_id).step())
                return std::nullopt;
            RunTriggerState state;
            if (!run->is_null(0))
                state.last_step = run->int64(0);
            if (!run->is_null(1))
                state.last_fired = timestamp(run->int64(1));
            state.condition = condition_of(*run);
            Query values(c,
                         "SELECT value FROM trigger_values WHERE automation_id = ?1 "
                         "AND run_id = ?2 ORDER BY seq");
            values->bind(1, key.automation_id).bind(2, key.run_id);
            while (values->step())
                state.values.push_back(values->real(0));
            return state;
        });
    }
    void erase_run(const TriggerStateKey& key) override {
        core_.write([&](Connection& c) {
            for (const char* sql :
                 {"DELETE FROM trigger_runs WHERE automation_id = ?1 AND run_id = ?2",
                  "DELETE FROM trigger_values WHERE automation_id = ?1 AND run_id = ?2"})
                Query(c, sql)->bind(1, key.automation_id).bind(2, key.run_id).run();
        });
    }
    void erase_automation(std::string_view automation_id) override {
        core_.write([&](Connection& c) {
            for (const char* sql : {"DELETE FROM trigger_runs WHERE automation_id = ?1",
                                    "DELETE FROM trigger_values WHERE automation_id = ?1",
                                    "DELETE FROM trigger_population WHERE automation_id = ?1"})
                Query(c, sql)->bind(1, automation_id).run();
        });
    }
    void put_population_value(std::string_view automation_id, std::string_view run_id, double value,
                              std::size_t keep) override {
        core_.write(
            [&](Connection& c) { put_population_value_in(c, automation_id, run_id, value, keep); });
    }
    std::vector<PopulationValue> load_population(std::string_view automation_id) const override {
        return core_.read([&](Connection& c) {
            std::vector<PopulationValue> out;
            Query q(c,
                    "SELECT run_id, value FROM trigger_population WHERE automation_id = ?1 "
                    "ORDER BY seq");
            q->bind(1, automation_id);
            while (q->step())
                out.push_back({std::string(q->text(0)), q->real(1)});
            return out;
        });
    }
    void restart_windows(std::string_view automation_id) override {
        core_.write([&](Connection& c) {
            for (const char* sql :
                 {"DELETE FROM trigger_values WHERE automation_id = ?1",
                  "DELETE FROM trigger_population WHERE automation_id = ?1",
                  "UPDATE trigger_runs SET condition_state = 'normal', condition_streak = 0, "
                  "condition_since = NULL, condition_fired = 0 WHERE automation_id = ?1"})
                Query(c, sql)->bind(1, automation_id).run();
        });
    }

    // Inside a write transaction: the writes `apply_in` makes.
    static void append_values_in(Connection& c, const TriggerStateKey& key,
                                 std::span<const double> values, std::int64_t step,
                                 std::size_t keep) {
        Query run(c,
                  "INSERT INTO trigger_runs (automation_id, run_id, last_step, next_seq) "
                  "VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO UPDATE SET "
                  "last_step = excluded.last_step, next_seq = next_seq + ?4 "
                  "RETURNING next_seq");
        run->bind(1, key.automation_id)
            .bind(2, key.run_id)
            .bind(3, step)
            .bind(4, static_cast<std::int64_t>(values.size()));
        run->step();
        const std::int64_t next_seq = run->int64(0);
        run->run();
        std::int64_t seq = next_seq - static_cast<std::int64_t>(values.size());
        Query insert(c,
                     "INSERT INTO trigger_values (automation_id, run_id, seq, value) "
                     "VALUES (?1, ?2, ?3, ?4)");
        for (double v : values) {
            insert->bind(1, key.automation_id).bind(2, key.run_id).bind(3, seq++).bind(4, v);
            insert->run();
            insert->reset();
        }
        Query(c,
              "DELETE FROM trigger_values WHERE automation_id = ?1 AND run_id = ?2 "
              "AND seq < ?3")
            ->bind(1, key.automation_id)
            .bind(2, key.run_id)
            .bind(3, next_seq - static_cast<std::int64_t>(keep))
            .run();
    }
    static void record_firing_in(Connection& c, const TriggerStateKey& key, Timestamp time) {
        Query(c,
              "INSERT INTO trigger_runs (automation_id, run_id, last_fired) "
              "VALUES (?1, ?2, ?3) ON CONFLICT DO UPDATE SET last_fired = excluded.last_fired")
            ->bind(1, key.automation_id)
            .bind(2, key.run_id)
            .bind(3, nanos(time))
            .run();
    }
    static void save_condition_in(Connection& c, const TriggerStateKey& key,
                                  const ConditionProgress& progress) {
        Query q(c,
                "INSERT INTO trigger_runs (automation_id, run_id, condition_state, "
                "condition_streak, condition_since, condition_fired) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO UPDATE SET "
                "condition_state = excluded.condition_state, "
                "condition_streak = excluded.condition_streak, "
                "condition_since = excluded.condition_since, "
                "condition_fired = excluded.condition_fired");
        const std::optional<std::int64_t> since =
            progress.holding_since ? std::optional(nanos(*progress.holding_since)) : std::nullopt;
        q->bind(1, key.automation_id)
            .bind(2, key.run_id)
            .bind(3, to_string(progress.state))
            .bind(4, static_cast<std::int64_t>(progress.streak))
            .bind(5, since)
            .bind(6, static_cast<std::int64_t>(progress.fired))
            .run();
    }
    static void put_population_value_in(Connection& c, std::string_view automation_id,
                                        std::string_view run_id, double value, std::size_t keep) {
        Query(c,
              "UPDATE trigger_population SET value = ?3, seq = coalesce((SELECT max(seq) "
              "FROM trigger_population WHERE automation_id = ?1), 0) + 1 "
              "WHERE automation_id = ?1 AND run_id = ?2")
            ->bind(1, automation_id)
            .bind(2, run_id)
            .bind(3, value)
            .run();
        if (c.changes() > 0)
            return;
        // A new run: the least recently updated beyond `keep` leave (rare, so the scan of
        // `keep` index entries is paid once per run, not per value).
        Query(c,
              "INSERT INTO trigger_population (automation_id, run_id, seq, value) VALUES "
              "(?1, ?2, coalesce((SELECT max(seq) FROM trigger_population "
              "WHERE automation_id = ?1), 0) + 1, ?3)")
            ->bind(1, automation_id)
            .bind(2, run_id)
            .bind(3, value)
            .run();
        Query(c,
              "DELETE FROM trigger_population WHERE automation_id = ?1 AND seq < (SELECT seq "
              "FROM trigger_population WHERE automation_id = ?1 ORDER BY seq DESC "
              "LIMIT 1 OFFSET ?2)")
            ->bind(1, automation_id)
            .bind(2, static_cast<std::int64_t>(keep) - 1)
            .run();
    }

  private:
    Core& core_;
};

/// The write that records `firings` and enqueues `deliveries`, with their documents encoded
/// beforehand so the transaction only inserts. A delivery goes into its firing's row (see
/// SqliteOutboxStore).
class RecordPublish {
  public:
    explicit RecordPublish(const PublishRecord& record)
        : trigger_state_(record.trigger_state),
          event_id_(record.event_id),
          time_(record.time),
          firing_ids_(event_id_.empty() ? std::string() : detail::firing_ids_text(record.firings)),
          documents_(encode_all(record.firings, detail::codec::firing_document)),
          actions_(encode_all(record.deliveries, [](const NewDelivery& d) {
              return detail::codec::action_to_json(d.action);
          })) {
        const std::span<const Firing> firings = record.firings;
        const std::vector<const NewDelivery*> delivery_of =
            detail::delivery_per_firing(firings, record.deliveries);
        rows_.reserve(firings.size());
        for (std::size_t i = 0; i < firings.size(); ++i) {
            const NewDelivery* d = delivery_of[i];
            const std::string* action =
                d ? &actions_[static_cast<std::size_t>(d - record.deliveries.data())] : nullptr;
            rows_.push_back({.firing = &firings[i],
                             .document = &documents_[i],
                             .delivery = d,
                             .action = action});
        }
    }

    void operator()(Connection& c) const {
        if (!event_id_.empty())
            SqliteHistoryStore::remember_event_in(c, event_id_, time_, firing_ids_);
        SqliteHistoryStore::insert(c, rows_);
        SqliteTriggerStateStore::apply_in(c, trigger_state_);
    }

  private:
    std::span<const TriggerStateChange> trigger_state_;
    std::string_view event_id_;
    Timestamp time_;
    std::string firing_ids_;
    std::vector<std::string> documents_;
    std::vector<std::string> actions_;
    std::vector<NewFiring> rows_;
};

}  // namespace

struct Database::State {
    State(const std::filesystem::path& file, const Options& options)
        : path(file), core(std::make_shared<Core>(file.string(), options)) {}

    std::filesystem::path path;
    std::shared_ptr<Core> core;
    SqliteAutomationStore automations{*core};
    SqliteHistoryStore history{*core};
    SqliteIntegrationStore integrations{*core};
    SqliteOutboxStore outbox{*core};
    SqliteTriggerStateStore trigger_state{*core};
};

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
    state_->core->write(RecordPublish(record));
}

void Database::record_publish_async(const PublishRecord& record,
                                    std::function<void(std::exception_ptr)> done) {
    std::optional<RecordPublish> write;
    try {
        write.emplace(record);
    } catch (...) {
        done(std::current_exception());
        return;
    }
    state_->core->write_async(std::move(*write), std::move(done));
}

namespace {

/// Inside a write transaction: settles the outbox, then the history of the deliveries whose
/// lease held, then the streaks.
SettleResult settle_in(const Core& core, Connection& c, const SettleBatch& batch) {
    SettleResult result{.lost = SqliteOutboxStore::settle_in(c, batch.outbox)};
    detail::apply_kept(batch.history, result.lost, [&](std::span<const FiringUpdate> kept) {
        SqliteHistoryStore::update_in(core, c, kept);
    });
    result.failing = SqliteIntegrationStore::update_streaks_in(c, batch.streaks);
    return result;
}

/// The write that settles, its updates copied so it may outlive the caller's spans; `result`
/// is set (not added to) each time it runs, as a group commit may run it twice.
class Settle {
  public:
    Settle(const Core& core, const SettleBatch& batch, std::shared_ptr<SettleResult> result)
        : core_(&core),
          history_(batch.history.begin(), batch.history.end()),
          outbox_(batch.outbox.begin(), batch.outbox.end()),
          streaks_(batch.streaks.begin(), batch.streaks.end()),
          result_(std::move(result)) {}

    void operator()(Connection& c) const {
        *result_ =
            settle_in(*core_, c, {.history = history_, .outbox = outbox_, .streaks = streaks_});
    }

  private:
    const Core* core_;
    std::vector<FiringUpdate> history_;
    std::vector<OutboxUpdate> outbox_;
    std::vector<StreakUpdate> streaks_;
    std::shared_ptr<SettleResult> result_;
};

}  // namespace

SettleResult Database::settle(const SettleBatch& batch) {
    SettleResult result;
    state_->core->write([&](Connection& c) { result = settle_in(*state_->core, c, batch); });
    return result;
}

void Database::settle_async(const SettleBatch& batch,
                            std::function<void(std::exception_ptr, SettleResult)> done) {
    auto result = std::make_shared<SettleResult>();
    state_->core->write_async(Settle(*state_->core, batch, result),
                              [result, done = std::move(done)](std::exception_ptr error) {
                                  done(error, error ? SettleResult{} : std::move(*result));
                              });
}

void Database::claim_async(Timestamp now, std::size_t limit, Timestamp lease_until,
                           std::function<void(std::exception_ptr, ClaimResult)> done) {
    // The claim runs on the committer's thread and may run twice (group commit); its result
    // is handed over once the lease is durable.
    auto result = std::make_shared<ClaimResult>();
    const Core* core = state_->core.get();
    state_->core->write_async(
        [core, result, now, limit, lease_until](Connection& c) {
            result->deliveries = SqliteOutboxStore::claim_in(*core, c, now, limit, lease_until);
            result->next_due = SqliteOutboxStore::next_due_in(c);
        },
        [result, done = std::move(done)](std::exception_ptr error) {
            if (error)
                done(std::move(error), ClaimResult{});
            else
                done(nullptr, std::move(*result));
        });
}

namespace {

/// Inside a write transaction: one batch of deleting, over the firings after `after` (see
/// Storage::prune); `last` is set to the last one looked at. `keep_from`: the firings before
/// it are older than the newest `request.keep`. The newest firing is never looked at: rows are
/// numbered from the highest seq, and a number used again after the outbox cursor passed it
/// would hide a new delivery from claims.
detail::PruneStep prune_batch(const Core& core, Connection& c, const PruneRequest& request,
                              std::int64_t after, std::optional<std::int64_t> keep_from,
                              std::int64_t& last) {
    detail::PruneStep step;
    last = after;
    Query rows(c, R"sql(
        SELECT f.seq, f.time, json_extract(f.body, '$.status'),
               o.seq IS NOT NULL AND o.dead_seq IS NULL
                   OR (f.action IS NOT NULL AND f.seq > (SELECT seq FROM outbox_cursor)),
               o.dead_seq IS NOT NULL
        FROM firings f LEFT JOIN outbox o ON o.seq = f.seq
        WHERE f.seq > ?1 AND f.seq < (SELECT max(seq) FROM firings)
        ORDER BY f.seq LIMIT ?2)sql");
    rows->bind(1, after).bind(2, static_cast<std::int64_t>(request.batch));
    std::vector<std::pair<std::int64_t, bool>> doomed;  ///< (seq, a dead letter)
    std::size_t looked = 0;
    step.finished = true;
    while (rows->step()) {
        ++looked;
        const std::int64_t seq = rows->int64(0);
        const detail::PruneVerdict verdict = detail::prune_verdict(
            request,
            {.time = timestamp(rows->int64(1)),
             .status = decoded(core, [&] { return detail::codec::status_named(rows->text(2)); }),
             .waiting = rows->int64(3) != 0,
             .beyond_keep = keep_from && seq < *keep_from});
        if (verdict == detail::PruneVerdict::end)
            break;
        last = seq;
        if (verdict == detail::PruneVerdict::delete_settled)
            doomed.emplace_back(seq, false);
        else if (verdict == detail::PruneVerdict::delete_dead)
            doomed.emplace_back(seq, rows->int64(4) != 0);
        if (looked == request.batch)
            step.finished = false;
    }
    Query firing(c, "DELETE FROM firings WHERE seq = ?1");
    Query dead(c, "DELETE FROM outbox WHERE seq = ?1");
    for (const auto& [seq, dead_letter] : doomed) {
        if (dead_letter) {
            dead->bind(1, seq).run();
            dead->reset();
            ++step.done.dead_letters;
        } else {
            ++step.done.firings;
        }
        firing->bind(1, seq).run();
        firing->reset();
    }
    return step;
}

/// Inside a write transaction: one batch of expunging bodies, from where the last one ended
/// (the `retention` table) up to the first firing at or after `request.bodies_before`.
detail::PruneStep expunge_batch(const Core& core, Connection& c, const PruneRequest& request) {
    detail::PruneStep step{.finished = true};
    Query rows(c,
               "SELECT seq, time, body FROM firings WHERE seq > (SELECT bodies_seq FROM "
               "retention) ORDER BY seq LIMIT ?1");
    rows->bind(1, static_cast<std::int64_t>(request.batch));
    Query expunge(c, "UPDATE firings SET body = ?2 WHERE seq = ?1");
    std::optional<std::int64_t> last;
    std::size_t looked = 0;
    while (rows->step()) {
        if (timestamp(rows->int64(1)) >= *request.bodies_before)
            break;
        last = rows->int64(0);
        Firing f;
        decoded(core, [&] {
            detail::codec::read_firing_document(rows->text(2), f);
            return 0;
        });
        if (detail::expunge_bodies(f)) {
            expunge->bind(1, *last).bind(2, detail::codec::firing_document(f)).run();
            expunge->reset();
            ++step.done.bodies;
        }
        if (++looked == request.batch)
            step.finished = false;
    }
    if (last)
        Query(c, "UPDATE retention SET bodies_seq = ?1")->bind(1, *last).run();
    return step;
}

}  // namespace

PruneResult Database::prune(const PruneRequest& request) {
    Core& core = *state_->core;
    std::optional<std::int64_t> keep_from;
    if (request.keep > 0)
        keep_from = core.read([&](Connection& c) -> std::optional<std::int64_t> {
            Query q(c, "SELECT seq FROM firings ORDER BY seq DESC LIMIT 1 OFFSET ?1");
            if (!q->bind(1, static_cast<std::int64_t>(request.keep - 1)).step())
                return std::nullopt;
            return q->int64(0);
        });
    std::int64_t after = 0;
    return detail::run_prune_pass(
        request,
        [&] {
            // A group commit may run a write twice: it sets what it found, the loop adds it.
            detail::PruneStep step;
            std::int64_t last = after;
            core.write([&](Connection& c) {
                step = prune_batch(core, c, request, after, keep_from, last);
            });
            after = last;
            return step;
        },
        [&] {
            detail::PruneStep step;
            core.write([&](Connection& c) {
                Query(c,
                      "DELETE FROM published_events WHERE event_id IN (SELECT event_id FROM "
                      "published_events WHERE time < ?1 ORDER BY time LIMIT ?2)")
                    ->bind(1, nanos(request.settled_before))
                    .bind(2, static_cast<std::int64_t>(request.batch))
                    .run();
                step.done.event_ids = static_cast<std::size_t>(c.changes());
                step.finished = step.done.event_ids < request.batch;
            });
            return step;
        },
        [&] {
            detail::PruneStep step;
            core.write([&](Connection& c) { step = expunge_batch(core, c, request); });
            return step;
        });
}

std::shared_ptr<EncryptedSecretStore> Database::secrets(std::shared_ptr<const KeyProvider> keys) {
    return detail::sqlite::make_secret_store(state_->core, std::move(keys));
}

const std::filesystem::path& Database::path() const noexcept {
    return state_->path;
}

std::shared_ptr<Database> open(const std::filesystem::path& path, const Options& options) {
    return std::shared_ptr<Database>(
        new Database(std::make_shared<Database::State>(path, options)));
}

}  // namespace herald::sqlite
