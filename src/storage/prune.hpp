// What a pruning pass decides about each firing, and how it goes batch by batch: the same in
// every backend, which only reads the rows and deletes what it is told.
#pragma once

#include <herald/firing.hpp>
#include <herald/retention.hpp>

namespace herald::detail {

/// What a pass knows of one firing it looks at.
struct PruneCandidate {
    Timestamp time{};
    FiringStatus status = FiringStatus::pending;
    /// Its delivery waits in the outbox, not as a dead letter (due, retrying, claimed).
    bool waiting = false;
    /// Older than the newest `PruneRequest::keep` firings.
    bool beyond_keep = false;
};

enum class PruneVerdict {
    keep,            ///< stays, and the pass goes on past it
    delete_settled,  ///< a settled firing past its age or the count
    delete_dead,     ///< a dead letter past its age: the firing and the outbox row go
    end,             ///< recent enough that no rule takes it: the pass ends here
};

PruneVerdict prune_verdict(const PruneRequest& request, const PruneCandidate& firing) noexcept;

/// Clears `firing`'s payload and its attempts' response bodies; whether there was any.
bool expunge_bodies(Firing& firing) noexcept;

/// What one batch did, and whether its part of the pass is over.
struct PruneStep {
    PruneResult done;
    bool finished = false;
};

/// Runs a pass: `delete_batch()` until it says it finished, then `events_batch()` (published
/// event ids before `settled_before`) likewise, then, when the request has a `bodies_before`,
/// `bodies_batch()`; between batches, stops once a stop is requested. Each returns a
/// `PruneStep`.
template <class DeleteBatch, class EventsBatch, class BodiesBatch>
PruneResult run_prune_pass(const PruneRequest& request, DeleteBatch&& delete_batch,
                           EventsBatch&& events_batch, BodiesBatch&& bodies_batch) {
    PruneResult total;
    auto run = [&](auto& batch) {
        for (bool finished = false; !finished && !request.stop.stop_requested();) {
            const PruneStep step = batch();
            total += step.done;
            ++total.batches;
            finished = step.finished;
        }
    };
    run(delete_batch);
    run(events_batch);
    if (request.bodies_before)
        run(bodies_batch);
    return total;
}

}  // namespace herald::detail
