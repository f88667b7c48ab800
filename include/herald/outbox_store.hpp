// herald/outbox_store.hpp — the durable queue of deliveries waiting to be carried out.
//
// `Engine::publish` enqueues one `Delivery` per firing that has an action, in the same call that
// records the firing, before it returns; the dispatcher claims due deliveries, carries them out
// and settles each one (complete, reschedule, dead-letter):
//
// clang-format off
//     herald::OutboxStore& outbox = storage->outbox();
//     for (herald::Delivery& d : outbox.claim(now, 64, now + std::chrono::minutes{5})) {
//         // ... send ...
//         herald::OutboxUpdate done{.delivery_id = d.firing.id,
//                                   .kind = herald::OutboxUpdate::Kind::complete};
//         outbox.settle({&done, 1});
//     }
// clang-format on
//
// A claim is a lease: a claimed delivery that is not settled before its lease ends becomes due
// again, so the work of a claimer that crashed returns. The lease end is also the claim's fencing
// token: a claimer that is still at work renews its lease (`OutboxUpdate::Kind::renew`) before it
// ends, and settles with the lease it holds (`OutboxUpdate::lease`), so a claimer that was too
// slow and lost the delivery to another one neither settles nor renews it. Backends keep one
// ordered index on the due time (the lease end while claimed), so claiming from a million waiting
// deliveries costs O(log n) per delivery; calls take batches, so a persistent backend writes each
// batch in one transaction (group commit).
#pragma once

#include <herald/action.hpp>
#include <herald/clock.hpp>
#include <herald/firing.hpp>
#include <herald/trigger.hpp>

#include <cstddef>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace herald {

/// A firing waiting for its action to be carried out. Carries everything needed to do so (the
/// action as it was when the automation fired), so deleting or changing the automation does not
/// change deliveries already made. Value type; thread-compatible.
struct Delivery {
    /// The firing as it fired: `firing.id` is the delivery id, stable across attempts and
    /// replays. Its status, payload and attempts are the history's (the dispatcher records them
    /// there): a claimed delivery's firing is pending, with no payload and no attempts.
    Firing firing;
    Action action;                                       ///< the automation's action when it fired
    TriggerKind trigger = TriggerKind::create_artifact;  ///< what fired (templates depend on it)
    int attempts = 0;  ///< attempts made so far (numbers the next one)
    /// Attempts made before the last replay: the retry schedule starts over from here.
    int round_start = 0;
    Timestamp due{};  ///< not to be attempted before this time

    friend bool operator==(const Delivery&, const Delivery&) = default;
};

/// A delivery enqueued when its firing is recorded (`Storage::record_publish`, what publishing
/// does): not attempted yet, its firing one of those recorded with it. Value type.
struct NewDelivery {
    std::size_t firing = 0;  ///< the index of its firing among the firings recorded with it
    Action action;           ///< the automation's action when it fired
    TriggerKind trigger = TriggerKind::create_artifact;
    Timestamp due{};

    friend bool operator==(const NewDelivery&, const NewDelivery&) = default;
};

/// How a claimed delivery is settled, or its lease renewed.
struct OutboxUpdate {
    enum class Kind {
        complete,     ///< done (succeeded or failed for good): removed from the outbox
        reschedule,   ///< due again at `due`, with `attempts` attempts made
        dead_letter,  ///< retries exhausted: kept, never claimed again unless replayed
        renew,        ///< still at work: leased until `due` instead
    };
    std::string delivery_id;
    Kind kind = Kind::complete;
    Timestamp due{};   ///< reschedule: when it is due again; renew: the new lease end
    int attempts = 0;  ///< reschedule and dead_letter: the attempts made
    /// The lease the update is made under: the `lease_until` of the claim that took the
    /// delivery, or the `due` of the renewal that last extended it. When set, the update
    /// applies only while the delivery is still claimed under exactly that lease; otherwise
    /// (another claim took it since, or it was settled) it is dropped and its id reported as
    /// lost. Unset: it applies to the waiting delivery whoever holds it.
    std::optional<Timestamp> lease;
};

/// The outbox: deliveries by due time. Implementations must be thread-safe; every call is
/// all-or-none and durable when it returns.
class OutboxStore {
  public:
    virtual ~OutboxStore() = default;

    /// Adds deliveries (their ids are new). Persistent backends should enqueue together with the
    /// history record, see `Storage::record_publish`.
    virtual void enqueue(std::span<const Delivery> deliveries) = 0;
    /// Up to `limit` deliveries due at `now` (earliest first, dead letters never), each leased
    /// until `lease_until`: it is not returned again before then unless settled.
    virtual std::vector<Delivery> claim(Timestamp now, std::size_t limit,
                                        Timestamp lease_until) = 0;
    /// Settles claimed deliveries and renews leases, all or none. An update without a lease for
    /// an id that is not in the outbox is ignored; an update whose lease no longer holds is
    /// dropped. Returns the ids of the dropped ones, in the order of `updates`.
    virtual std::vector<std::string> settle(std::span<const OutboxUpdate> updates) = 0;
    /// Makes a dead-lettered delivery due at `due` with its attempts kept, so attempt numbers
    /// continue, and `round_start` set to them, so the schedule starts over; false when no dead
    /// letter has that id.
    virtual bool replay(std::string_view delivery_id, Timestamp due) = 0;
    /// The earliest time something may become claimable (a due time or a lease end); nullopt
    /// when nothing waits. Dead letters do not count.
    virtual std::optional<Timestamp> next_due() const = 0;
    /// The dead letters, oldest first, at most `limit`.
    virtual std::vector<Delivery> dead_letters(std::size_t limit = 100) const = 0;
    /// How many deliveries wait (claimed or not), dead letters excluded.
    virtual std::size_t pending_count() const = 0;
    /// How many dead letters are kept. The default reads them all; backends count instead.
    virtual std::size_t dead_count() const {
        return dead_letters(std::numeric_limits<std::size_t>::max()).size();
    }
};

}  // namespace herald
