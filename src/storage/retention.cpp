#include "storage/prune.hpp"

#include <herald/error.hpp>

namespace herald {

PruneRequest PruneRequest::at(Timestamp now, const RetentionPolicy& policy) {
    PruneRequest request{.settled_before = now - policy.history,
                         .dead_before = now - policy.dead_letters,
                         .keep = policy.max_firings,
                         .batch = policy.batch};
    if (policy.bodies)
        request.bodies_before = now - *policy.bodies;
    return request;
}

PruneResult& PruneResult::operator+=(const PruneResult& other) noexcept {
    firings += other.firings;
    dead_letters += other.dead_letters;
    bodies += other.bodies;
    event_ids += other.event_ids;
    batches += other.batches;
    return *this;
}

void validate(const RetentionPolicy& policy) {
    auto positive = [](std::chrono::seconds age, const char* field) {
        if (age <= std::chrono::seconds::zero())
            throw Error(errc::invalid_argument, field, "must be positive");
    };
    positive(policy.history, "retention.history");
    positive(policy.dead_letters, "retention.dead_letters");
    if (policy.bodies)
        positive(*policy.bodies, "retention.bodies");
    positive(policy.interval, "retention.interval");
    if (policy.batch == 0)
        throw Error(errc::invalid_argument, "retention.batch", "must be at least 1");
}

namespace detail {

PruneVerdict prune_verdict(const PruneRequest& request, const PruneCandidate& firing) noexcept {
    if (firing.time >= request.settled_before && firing.time >= request.dead_before &&
        !firing.beyond_keep)
        return PruneVerdict::end;
    if (firing.waiting)
        return PruneVerdict::keep;
    switch (firing.status) {
        case FiringStatus::finished:
        case FiringStatus::failed:
        case FiringStatus::skipped:
            return firing.time < request.settled_before || firing.beyond_keep
                       ? PruneVerdict::delete_settled
                       : PruneVerdict::keep;
        case FiringStatus::dead:
            return firing.time < request.dead_before ? PruneVerdict::delete_dead
                                                     : PruneVerdict::keep;
        case FiringStatus::pending:
            break;
    }
    return PruneVerdict::keep;
}

bool expunge_bodies(Firing& firing) noexcept {
    bool any = !firing.payload.empty();
    firing.payload.clear();
    for (DeliveryAttempt& attempt : firing.attempts) {
        any = any || !attempt.response_body.empty();
        attempt.response_body.clear();
    }
    return any;
}

}  // namespace detail
}  // namespace herald
