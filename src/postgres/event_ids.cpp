// The ids of published events (`HistoryStore::remember_event`), in the `published_events`
// table: written in the publish's transaction, so that of two engines recording one event id
// the second waits for the first to commit and is then refused.
#include "codec/storage_codec.hpp"
#include "postgres/publish_rows.hpp"
#include "postgres/stores.hpp"
#include "storage/published_events.hpp"

namespace herald::detail::postgres {

void HistoryTable::remember_event(std::string_view event_id, Timestamp time,
                                  std::span<const Firing> firings) {
    EventRows rows;
    rows.add(event_id, time, firings);
    pool_.transact([&](Connection& c) { rows.insert(c); });
}

std::optional<std::vector<Firing>> HistoryTable::event_firings(std::string_view event_id) const {
    const Result r = pool_.run([&](Connection& c) {
        return c.exec("SELECT firings FROM published_events WHERE event_id = $1",
                      Params().text(event_id));
    });
    if (r.rows() == 0)
        return std::nullopt;
    const std::vector<std::string> ids =
        decoded("published_events", [&] { return firing_ids_of(r.text(0, 0)); });
    std::vector<Firing> out;
    for (const std::string& id : ids)
        if (std::optional<Firing> f = find(id))
            out.push_back(std::move(*f));
    return out;
}

std::size_t HistoryTable::forget_events_in(Connection& c, Timestamp before, std::size_t limit) {
    const Result r = c.exec(
        "DELETE FROM published_events WHERE event_id IN (SELECT event_id "
        "FROM published_events WHERE time < $1 ORDER BY time LIMIT $2)",
        Params().int64(codec::nanos(before)).int64(static_cast<std::int64_t>(limit)));
    return static_cast<std::size_t>(r.changed());
}

}  // namespace herald::detail::postgres
