#include "storage/firing_counts.hpp"
#include "storage/firing_update.hpp"
#include "storage/memory_integration_store.hpp"
#include "storage/memory_trigger_state_store.hpp"
#include "storage/prune.hpp"
#include "storage/published_events.hpp"

#include <herald/error.hpp>
#include <herald/memory_storage.hpp>

#include <algorithm>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace herald {
namespace {

class MemoryAutomationStore final : public AutomationStore {
  public:
    void insert(const Automation& automation) override {
        std::unique_lock lock(mutex_);
        if (!automations_.emplace(automation.id, automation).second)
            throw Error(errc::already_exists, "id",
                        "automation id '" + automation.id + "' is taken");
    }
    void update(const Automation& automation) override {
        std::unique_lock lock(mutex_);
        auto it = automations_.find(automation.id);
        if (it == automations_.end())
            throw Error(errc::not_found, "id", "no automation with id '" + automation.id + "'");
        it->second = automation;
    }
    bool erase(std::string_view id) override {
        std::unique_lock lock(mutex_);
        return automations_.erase(std::string(id)) != 0;
    }
    std::optional<Automation> find(std::string_view id) const override {
        std::shared_lock lock(mutex_);
        auto it = automations_.find(std::string(id));
        if (it == automations_.end())
            return std::nullopt;
        return it->second;
    }
    std::vector<Automation> all() const override {
        std::shared_lock lock(mutex_);
        std::vector<Automation> out;
        out.reserve(automations_.size());
        for (const auto& [id, a] : automations_)
            out.push_back(a);
        return out;
    }

  private:
    mutable std::shared_mutex mutex_;
    std::map<std::string, Automation> automations_;
};

class MemoryHistoryStore final : public HistoryStore {
  public:
    void append(std::span<const Firing> firings) override {
        std::unique_lock lock(mutex_);
        std::unordered_set<std::string_view> ids;
        for (const Firing& f : firings)
            if (by_id_.contains(f.id) || !ids.insert(f.id).second)
                throw Error(errc::already_exists, "id",
                            "firing '" + f.id + "' is already in the history");
        for (const Firing& f : firings) {
            firings_.push_back(f);
            index(firings_.size() - 1);
        }
    }
    void update(std::span<const FiringUpdate> updates) override {
        std::unique_lock lock(mutex_);
        for (const FiringUpdate& u : updates) {
            auto it = by_id_.find(u.firing_id);
            if (it == by_id_.end())
                continue;
            detail::apply_update(*firings_[it->second], u);
        }
    }
    std::optional<Firing> find(std::string_view firing_id) const override {
        std::shared_lock lock(mutex_);
        auto it = by_id_.find(std::string(firing_id));
        if (it == by_id_.end())
            return std::nullopt;
        return *firings_[it->second];
    }
    std::optional<RecordedAction> recorded_action(std::string_view firing_id) const override {
        std::shared_lock lock(mutex_);
        auto it = actions_.find(std::string(firing_id));
        if (it == actions_.end() || !by_id_.contains(it->first))
            return std::nullopt;
        return it->second;
    }
    /// Keeps the action of each delivery enqueued, for `recorded_action`.
    void remember(std::span<const Delivery> deliveries) {
        std::unique_lock lock(mutex_);
        for (const Delivery& d : deliveries)
            actions_.insert_or_assign(d.firing.id,
                                      RecordedAction{.action = d.action, .trigger = d.trigger});
    }
    void remember_event(std::string_view event_id, Timestamp time,
                        std::span<const Firing> firings) override {
        std::unique_lock lock(mutex_);
        std::vector<std::string> ids;
        ids.reserve(firings.size());
        for (const Firing& f : firings)
            ids.push_back(f.id);
        const auto [it, added] =
            events_.try_emplace(std::string(event_id), PublishedEvent{time, std::move(ids)});
        if (!added)
            throw detail::already_published(event_id);
        events_by_time_.emplace(time, it->first);
    }
    std::optional<std::vector<Firing>> event_firings(std::string_view event_id) const override {
        std::shared_lock lock(mutex_);
        const auto it = events_.find(std::string(event_id));
        if (it == events_.end())
            return std::nullopt;
        std::vector<Firing> out;
        for (const std::string& id : it->second.firings)
            if (const auto at = by_id_.find(id); at != by_id_.end())
                out.push_back(*firings_[at->second]);
        return out;
    }
    std::vector<Firing> query(const HistoryQuery& q) const override {
        std::shared_lock lock(mutex_);
        std::vector<Firing> out;
        if (q.limit > 0)
            for_each_match(q, [&](const Firing& f) {
                out.push_back(f);
                return out.size() < q.limit;
            });
        return out;
    }
    FiringCounts count_firings(const HistoryQuery& q) const override {
        std::shared_lock lock(mutex_);
        FiringCounts counts = detail::no_firings();
        for_each_match(q, [&](const Firing& f) {
            ++detail::count_of(counts, f.status);
            return true;
        });
        return counts;
    }

    /// How a firing's delivery stands in the outbox: for `prune_batch`.
    enum class Held { no, waiting, dead };

    /// The position before which firings are older than the newest `keep`; 0 when `keep` is
    /// 0 or the history holds no more. Positions hold until `compact`, so once per pass.
    std::size_t keep_boundary(std::size_t keep) const {
        if (keep == 0)
            return 0;
        std::shared_lock lock(mutex_);
        std::size_t live = 0;
        for (std::size_t i = firings_.size(); i > 0; --i)
            if (firings_[i - 1] && ++live == keep)
                return i - 1;
        return 0;
    }

    /// One batch of a pruning pass: looks at up to `request.batch` firings from position
    /// `next` on (and moves it past them), deleting what `prune_verdict` says; the firings
    /// before `keep_from` are beyond the newest `request.keep`. `held(id)` tells where the
    /// firing's delivery is, `drop_dead(id)` deletes its dead letter. The newest firing is
    /// never looked at.
    template <class HeldOf, class DropDead>
    detail::PruneStep prune_batch(const PruneRequest& request, std::size_t keep_from,
                                  std::size_t& next, HeldOf&& held, DropDead&& drop_dead) {
        std::unique_lock lock(mutex_);
        detail::PruneStep step;
        const std::size_t end = firings_.empty() ? 0 : firings_.size() - 1;
        for (std::size_t looked = 0; looked < request.batch; ++next) {
            if (next >= end) {
                step.finished = true;
                break;
            }
            std::optional<Firing>& f = firings_[next];
            if (!f)
                continue;
            ++looked;
            const auto where = held(f->id);
            const detail::PruneVerdict verdict =
                detail::prune_verdict(request, {.time = f->time,
                                                .status = f->status,
                                                .waiting = where == Held::waiting,
                                                .beyond_keep = next < keep_from});
            if (verdict == detail::PruneVerdict::end) {
                step.finished = true;
                break;
            }
            if (verdict == detail::PruneVerdict::keep)
                continue;
            if (verdict == detail::PruneVerdict::delete_dead) {
                if (where == Held::dead)
                    drop_dead(f->id);
                ++step.done.dead_letters;
            } else {
                ++step.done.firings;
            }
            by_id_.erase(f->id);
            actions_.erase(f->id);
            f.reset();
            ++pruned_;
        }
        return step;
    }

    /// One batch of forgetting published event ids: up to `request.batch` of those published
    /// before `request.settled_before`, oldest first.
    detail::PruneStep forget_events_batch(const PruneRequest& request) {
        std::unique_lock lock(mutex_);
        detail::PruneStep step;
        while (step.done.event_ids < request.batch) {
            const auto oldest = events_by_time_.begin();
            if (oldest == events_by_time_.end() || oldest->first >= request.settled_before) {
                step.finished = true;
                break;
            }
            events_.erase(oldest->second);
            events_by_time_.erase(oldest);
            ++step.done.event_ids;
        }
        return step;
    }

    /// One batch of expunging bodies: the firings from the last one expunged on, up to the
    /// first at or after `request.bodies_before`.
    detail::PruneStep expunge_batch(const PruneRequest& request) {
        std::unique_lock lock(mutex_);
        detail::PruneStep step;
        for (std::size_t looked = 0; looked < request.batch; ++bodies_next_) {
            if (bodies_next_ >= firings_.size()) {
                step.finished = true;
                break;
            }
            std::optional<Firing>& f = firings_[bodies_next_];
            if (!f)
                continue;
            ++looked;
            if (f->time >= *request.bodies_before) {
                step.finished = true;
                break;
            }
            if (detail::expunge_bodies(*f))
                ++step.done.bodies;
        }
        return step;
    }

    /// Gives back the room of pruned firings once they are most of the history (so a history
    /// pruned for ever stays bounded); positions change, so between passes only.
    void compact() {
        std::unique_lock lock(mutex_);
        if (pruned_ < 1024 || pruned_ < firings_.size() / 2)
            return;
        std::vector<std::optional<Firing>> live;
        live.reserve(firings_.size() - pruned_);
        std::size_t bodies_next = 0;
        for (std::size_t i = 0; i < firings_.size(); ++i)
            if (firings_[i]) {
                live.push_back(std::move(firings_[i]));
                if (i < bodies_next_)
                    ++bodies_next;
            }
        firings_ = std::move(live);
        bodies_next_ = bodies_next;
        pruned_ = 0;
        by_id_.clear();
        by_automation_.clear();
        by_integration_.clear();
        for (std::size_t i = 0; i < firings_.size(); ++i)
            index(i);
    }

  private:
    /// Calls `visit` with each firing `q` matches (its limit aside), newest first, while it
    /// returns true. Under the lock.
    template <class Visit>
    void for_each_match(const HistoryQuery& q, Visit visit) const {
        auto take = [&](std::size_t position) {
            const std::optional<Firing>& f = firings_[position];
            return !f || !matches(q, *f) || visit(*f);
        };
        // Appends arrive in firing-time order, so walking a position list backwards is newest
        // first; the narrowest list that the query names is walked, from `before` on.
        std::size_t end = firings_.size();
        if (!q.before.empty()) {
            const auto it = by_id_.find(q.before);
            if (it == by_id_.end())
                return;
            end = it->second;
        }
        if (const std::vector<std::size_t>* positions = narrowest(q)) {
            auto it =
                std::upper_bound(positions->rbegin(), positions->rend(), end, std::greater<>{});
            for (; it != positions->rend() && take(*it); ++it) {
            }
        } else {
            for (std::size_t i = end; i > 0 && take(i - 1); --i) {
            }
        }
    }
    /// Adds the firing at `position` to the indexes.
    void index(std::size_t position) {
        const Firing& f = *firings_[position];
        by_id_.emplace(f.id, position);
        by_automation_[f.automation_id].push_back(position);
        if (!f.integration.empty())
            by_integration_[integration_key(f.event.entity, f.integration)].push_back(position);
    }
    static std::string integration_key(std::string_view entity, std::string_view integration) {
        std::string key(entity);
        key += '\0';
        key += integration;
        return key;
    }
    static bool matches(const HistoryQuery& q, const Firing& f) {
        return (q.automation_id.empty() || f.automation_id == q.automation_id) &&
               (q.entity.empty() || f.event.entity == q.entity) &&
               (q.project.empty() || f.event.project == q.project) &&
               (q.integration.empty() || f.integration == q.integration) &&
               (!q.status || f.status == *q.status) && (!q.from || f.time >= *q.from) &&
               (!q.until || f.time < *q.until);
    }
    const std::vector<std::size_t>* narrowest(const HistoryQuery& q) const {
        static const std::vector<std::size_t> none;
        if (!q.automation_id.empty()) {
            auto it = by_automation_.find(q.automation_id);
            return it == by_automation_.end() ? &none : &it->second;
        }
        if (!q.integration.empty() && !q.entity.empty()) {
            auto it = by_integration_.find(integration_key(q.entity, q.integration));
            return it == by_integration_.end() ? &none : &it->second;
        }
        return nullptr;
    }

    mutable std::shared_mutex mutex_;
    std::vector<std::optional<Firing>> firings_;  ///< in append order; empty once pruned
    std::size_t pruned_ = 0;                      ///< empty entries in `firings_`
    std::size_t bodies_next_ = 0;  ///< the first position whose bodies are not expunged yet
    std::unordered_map<std::string, std::size_t> by_id_;
    std::unordered_map<std::string, RecordedAction> actions_;  ///< by firing id (`remember`)
    struct PublishedEvent {
        Timestamp time{};
        std::vector<std::string> firings;  ///< their ids
    };
    std::unordered_map<std::string, PublishedEvent> events_;  ///< by event id (`remember_event`)
    std::multimap<Timestamp, std::string> events_by_time_;    ///< event ids by publish time
    std::unordered_map<std::string, std::vector<std::size_t>> by_automation_;
    std::unordered_map<std::string, std::vector<std::size_t>> by_integration_;
};

/// Waiting deliveries in one ordered index on (due time or lease end, id), as a persistent
/// backend would keep them; dead letters apart, in dead-lettering order.
class MemoryOutboxStore final : public OutboxStore {
  public:
    explicit MemoryOutboxStore(MemoryHistoryStore& history) : history_(history) {}

    void enqueue(std::span<const Delivery> deliveries) override {
        {
            std::unique_lock lock(mutex_);
            for (const Delivery& d : deliveries) {
                if (waiting_.contains(d.firing.id) || dead_.contains(d.firing.id))
                    throw Error(errc::already_exists, "delivery_id",
                                "delivery '" + d.firing.id + "' is already in the outbox");
            }
            for (const Delivery& d : deliveries)
                add_waiting(d, d.due);
        }
        // Outside the outbox's lock: pruning takes the history's, then the outbox's.
        history_.remember(deliveries);
    }
    std::vector<Delivery> claim(Timestamp now, std::size_t limit, Timestamp lease_until) override {
        std::unique_lock lock(mutex_);
        std::vector<decltype(by_due_)::node_type> leased;
        while (leased.size() < limit && !by_due_.empty() && by_due_.begin()->first <= now)
            leased.push_back(by_due_.extract(by_due_.begin()));
        std::vector<Delivery> out;
        out.reserve(leased.size());
        for (auto& node : leased) {
            Waiting& w = waiting_.at(node.value().second);
            out.push_back(w.delivery);
            node.value().first = lease_until;
            w.key = node.value();
            by_due_.insert(std::move(node));
        }
        return out;
    }
    std::vector<std::string> settle(std::span<const OutboxUpdate> updates) override {
        std::unique_lock lock(mutex_);
        std::vector<std::string> lost;
        for (const OutboxUpdate& u : updates) {
            auto it = waiting_.find(u.delivery_id);
            if (u.lease && (it == waiting_.end() || it->second.key.first != *u.lease)) {
                lost.push_back(u.delivery_id);
                continue;
            }
            if (it == waiting_.end())
                continue;
            by_due_.erase(it->second.key);
            switch (u.kind) {
                case OutboxUpdate::Kind::complete:
                    waiting_.erase(it);
                    break;
                case OutboxUpdate::Kind::reschedule:
                    it->second.delivery.due = u.due;
                    it->second.delivery.attempts = u.attempts;
                    it->second.key = {u.due, it->first};
                    by_due_.insert(it->second.key);
                    break;
                case OutboxUpdate::Kind::dead_letter:
                    it->second.delivery.attempts = u.attempts;
                    dead_order_.push_back(it->first);
                    dead_.emplace(it->first, std::move(it->second.delivery));
                    waiting_.erase(it);
                    break;
                case OutboxUpdate::Kind::renew:
                    it->second.key.first = u.due;
                    by_due_.insert(it->second.key);
                    break;
            }
        }
        return lost;
    }
    bool replay(std::string_view delivery_id, Timestamp due) override {
        std::unique_lock lock(mutex_);
        auto it = dead_.find(std::string(delivery_id));
        if (it == dead_.end())
            return false;
        Delivery d = std::move(it->second);
        dead_.erase(it);
        std::erase(dead_order_, d.firing.id);
        d.due = due;
        d.round_start = d.attempts;
        add_waiting(d, due);
        return true;
    }
    std::optional<Timestamp> next_due() const override {
        std::shared_lock lock(mutex_);
        if (by_due_.empty())
            return std::nullopt;
        return by_due_.begin()->first;
    }
    std::vector<Delivery> dead_letters(std::size_t limit) const override {
        std::shared_lock lock(mutex_);
        std::vector<Delivery> out;
        for (std::size_t i = 0; i < dead_order_.size() && out.size() < limit; ++i)
            out.push_back(dead_.at(dead_order_[i]));
        return out;
    }
    std::size_t pending_count() const override {
        std::shared_lock lock(mutex_);
        return waiting_.size();
    }
    std::size_t dead_count() const override {
        std::shared_lock lock(mutex_);
        return dead_.size();
    }

    /// Where the delivery `id` stands, for pruning.
    MemoryHistoryStore::Held held(const std::string& id) const {
        std::shared_lock lock(mutex_);
        if (waiting_.contains(id))
            return MemoryHistoryStore::Held::waiting;
        return dead_.contains(id) ? MemoryHistoryStore::Held::dead : MemoryHistoryStore::Held::no;
    }
    /// Deletes the dead letter `id`.
    void drop_dead(const std::string& id) {
        std::unique_lock lock(mutex_);
        if (dead_.erase(id) != 0)
            std::erase(dead_order_, id);
    }

  private:
    using Key = std::pair<Timestamp, std::string>;
    struct Waiting {
        Delivery delivery;
        Key key;  ///< its entry in `by_due_`
    };

    void add_waiting(const Delivery& d, Timestamp due) {
        Key key{due, d.firing.id};
        waiting_.emplace(d.firing.id, Waiting{d, key});
        by_due_.insert(std::move(key));
    }

    MemoryHistoryStore& history_;
    mutable std::shared_mutex mutex_;
    std::unordered_map<std::string, Waiting> waiting_;
    std::set<Key> by_due_;  ///< (due time or lease end, id)
    std::unordered_map<std::string, Delivery> dead_;
    std::vector<std::string> dead_order_;
};

}  // namespace

struct MemoryStorage::Stores {
    MemoryAutomationStore automations;
    MemoryHistoryStore history;
    std::unique_ptr<IntegrationStore> integrations = detail::make_memory_integration_store();
    MemoryOutboxStore outbox{history};
    std::unique_ptr<TriggerStateStore> trigger_state = detail::make_memory_trigger_state_store();
    std::mutex publishing;  ///< held by `record_publish`
};

MemoryStorage::MemoryStorage() : stores_(std::make_unique<Stores>()) {}
MemoryStorage::~MemoryStorage() = default;

AutomationStore& MemoryStorage::automations() {
    return stores_->automations;
}
HistoryStore& MemoryStorage::history() {
    return stores_->history;
}
IntegrationStore& MemoryStorage::integrations() {
    return *stores_->integrations;
}
OutboxStore& MemoryStorage::outbox() {
    return stores_->outbox;
}
TriggerStateStore& MemoryStorage::trigger_state() {
    return *stores_->trigger_state;
}

void MemoryStorage::record_publish(const PublishRecord& record) {
    // One record at a time, so that of two records of one event id only the first is written.
    std::lock_guard lock(stores_->publishing);
    Storage::record_publish(record);
}

PruneResult MemoryStorage::prune(const PruneRequest& request) {
    MemoryHistoryStore& history = stores_->history;
    MemoryOutboxStore& outbox = stores_->outbox;
    std::size_t next = 0;
    const std::size_t keep_from = history.keep_boundary(request.keep);
    PruneResult result = detail::run_prune_pass(
        request,
        [&] {
            return history.prune_batch(
                request, keep_from, next, [&](const std::string& id) { return outbox.held(id); },
                [&](const std::string& id) { outbox.drop_dead(id); });
        },
        [&] { return history.forget_events_batch(request); },
        [&] { return history.expunge_batch(request); });
    history.compact();
    return result;
}

}  // namespace herald
