#include "postgres/publish_rows.hpp"

#include "codec/storage_codec.hpp"
#include "storage/published_events.hpp"

#include <herald/error.hpp>

#include <algorithm>
#include <string_view>
#include <unordered_set>

namespace herald::detail::postgres {
namespace {

using codec::nanos;

/// The index of the first of `ids` whose row a statement did not return (its first column
/// holds the ids; each returned id answers for one of `ids`), if any.
std::optional<std::size_t> first_missing(const Result& returned,
                                         const std::vector<std::string>& ids) {
    if (static_cast<std::size_t>(returned.rows()) == ids.size())
        return std::nullopt;
    std::unordered_multiset<std::string_view> got;
    for (int i = 0; i < returned.rows(); ++i)
        got.insert(returned.text(i, 0));
    for (std::size_t index = 0; index < ids.size(); ++index) {
        const auto it = got.find(ids[index]);
        if (it == got.end())
            return index;
        got.erase(it);
    }
    return std::nullopt;
}

}  // namespace

// ---- FiringRows ----

void FiringRows::add(const Firing& f, const Delivery* delivery) {
    id_.text(f.id);
    automation_id_.text(f.automation_id);
    entity_.text(f.event.entity);
    integration_.text(f.integration);
    time_.int64(nanos(f.time));
    body_.text(codec::firing_document(f));
    if (delivery) {
        action_.text(codec::action_to_json(delivery->action));
        trigger_.text(to_string(delivery->trigger));
    } else {
        action_.null();
        trigger_.null();
    }
    ids_.push_back(f.id);
}

Result FiringRows::insert_new(Connection& c) const {
    return c.exec(
        "INSERT INTO firings (id, automation_id, entity, integration, time, body, action, trigger)"
        " SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[],"
        " $6::text[], $7::text[], $8::text[]) ON CONFLICT (id) DO NOTHING RETURNING id",
        Params()
            .array(id_)
            .array(automation_id_)
            .array(entity_)
            .array(integration_)
            .array(time_)
            .array(body_)
            .array(action_)
            .array(trigger_));
}

void FiringRows::insert(Connection& c) const {
    if (empty())
        return;
    if (const auto skipped = first_missing(insert_new(c), ids_))
        throw Error(errc::already_exists, "id",
                    "firing '" + ids_[*skipped] + "' is already in the history");
}

void FiringRows::insert_missing(Connection& c) const {
    if (!empty())
        insert_new(c);
}

// ---- OutboxRows ----

void OutboxRows::add(const Delivery& d) {
    id_.text(d.firing.id);
    due_.int64(nanos(d.due));
    attempts_.int64(d.attempts);
    round_start_.int64(d.round_start);
    action_.text(codec::action_to_json(d.action));
    trigger_.text(to_string(d.trigger));
    ids_.push_back(d.firing.id);
}

void OutboxRows::insert(Connection& c) const {
    if (empty())
        return;
    const Result inserted = c.exec(
        "INSERT INTO outbox (firing_id, seq, ready_at, due, attempts, round_start, action, "
        "trigger) SELECT u.id, f.seq, u.due, u.due, u.attempts, u.round_start, u.action, u.trigger"
        " FROM unnest($1::text[], $2::bigint[], $3::integer[], $4::integer[], $5::text[],"
        " $6::text[]) WITH ORDINALITY AS u(id, due, attempts, round_start, action, trigger, n)"
        " JOIN firings f ON f.id = u.id ORDER BY u.n"
        " ON CONFLICT (firing_id) DO NOTHING RETURNING firing_id",
        Params()
            .array(id_)
            .array(due_)
            .array(attempts_)
            .array(round_start_)
            .array(action_)
            .array(trigger_));
    if (const auto skipped = first_missing(inserted, ids_))
        throw Error(errc::already_exists, "delivery_id",
                    "delivery '" + ids_[*skipped] + "' is already in the outbox");
}

// ---- EventRows ----

void EventRows::add(std::string_view event_id, Timestamp time, std::span<const Firing> firings) {
    id_.text(event_id);
    time_.int64(nanos(time));
    firings_.text(firing_ids_text(firings));
    ids_.emplace_back(event_id);
}

void EventRows::insert(Connection& c) const {
    if (empty())
        return;
    const Result inserted = c.exec(
        "INSERT INTO published_events (event_id, time, firings)"
        " SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[])"
        " ON CONFLICT DO NOTHING RETURNING event_id",
        Params().array(id_).array(time_).array(firings_));
    if (const auto skipped = first_missing(inserted, ids_))
        throw already_published(ids_[*skipped]);
}

// ---- PublishRows ----

void PublishRows::add(const PublishRecord& record, std::span<const Delivery> queued) {
    if (!record.event_id.empty())
        events_.add(record.event_id, record.time, record.firings);
    // One event's firings, and at most one delivery each: a search beats an index here.
    for (const Firing& f : record.firings) {
        const auto it = std::find_if(queued.begin(), queued.end(),
                                     [&](const Delivery& d) { return d.firing.id == f.id; });
        firings_.add(f, it == queued.end() ? nullptr : &*it);
    }
    for (const Delivery& d : queued)
        outbox_.add(d);
}

void PublishRows::insert(Connection& c) const {
    events_.insert(c);
    firings_.insert(c);
    outbox_.insert(c);
}

}  // namespace herald::detail::postgres
