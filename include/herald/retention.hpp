// herald/retention.hpp — how long the history keeps firings, and what pruning took away.
//
// The history grows by a firing per match. A `RetentionPolicy` bounds it: settled firings go
// after `history`, dead letters (with their firings) after `dead_letters`, payloads and response
// bodies earlier when `bodies` is set. An engine configured with a policy prunes on its own
// schedule; `herald prune` does it for an operator:
//
// clang-format off
//     herald::EngineConfig config;
//     config.retention = herald::RetentionPolicy{.history = std::chrono::days{14},
//                                                .bodies = std::chrono::days{3}};
//     herald::PruneResult r = storage->prune(herald::PruneRequest::at(clock.now(), *config.retention));
// clang-format on
//
// The ids of published events (what makes a second publish of one event a duplicate) are
// remembered as long as settled firings: they go after `history` too.
//
// Pruning never takes a firing whose delivery still waits (pending, retrying, claimed) nor a
// dead letter younger than its bound, and works in small transactions so that publishing and
// delivery go on between them.
#pragma once

#include <herald/clock.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <stop_token>

namespace herald {

/// How long the history keeps what. Value type; every member has a default.
struct RetentionPolicy {
    /// Settled firings (finished, failed, skipped) older than this are deleted, and so are the
    /// ids of events published before then.
    std::chrono::seconds history = std::chrono::days{30};
    /// Dead letters older than this are deleted with their firings; until then they can be
    /// replayed.
    std::chrono::seconds dead_letters = std::chrono::days{90};
    /// At most this many firings are kept: settled firings older than the newest `max_firings`
    /// are deleted whatever their age. 0: no bound.
    std::size_t max_firings = 0;
    /// The payload sent and the response bodies recorded of firings older than this are
    /// expunged; the rest of each record stays. Unset: they stay as long as their firing.
    std::optional<std::chrono::seconds> bodies;
    /// How often an engine configured with this policy prunes (the first pass runs at once).
    std::chrono::seconds interval = std::chrono::minutes{5};
    /// How many firings one transaction looks at: small, so that no write waits long behind
    /// pruning.
    std::size_t batch = 500;
};

/// One pruning pass: the cut-offs of a policy at one moment (what `Storage::prune` takes).
struct PruneRequest {
    Timestamp settled_before{};  ///< settled firings, and ids of events published, earlier go
    Timestamp dead_before{};     ///< dead letters whose firing has an earlier time go
    std::optional<Timestamp> bodies_before;  ///< bodies of firings with an earlier time go
    std::size_t keep = 0;                    ///< `RetentionPolicy::max_firings`
    std::size_t batch = 500;                 ///< firings looked at per transaction, at least 1
    std::stop_token stop;  ///< once a stop is requested, the pass ends after its current batch

    /// The pass `policy` asks for at `now`.
    static PruneRequest at(Timestamp now, const RetentionPolicy& policy);
};

/// What a pruning pass took away. Value type.
struct PruneResult {
    std::size_t firings = 0;       ///< settled firings deleted
    std::size_t dead_letters = 0;  ///< dead letters deleted, each with its firing
    std::size_t bodies = 0;        ///< firings whose payload and response bodies were expunged
    std::size_t event_ids = 0;     ///< published event ids forgotten (`PublishRecord::event_id`)
    std::size_t batches = 0;       ///< the transactions the pass wrote in

    PruneResult& operator+=(const PruneResult& other) noexcept;
    friend bool operator==(const PruneResult&, const PruneResult&) = default;
};

/// Throws herald::Error (invalid_argument) naming the member of `policy` that is out of range
/// ("retention.history": ages and the interval must be positive, the batch at least 1).
void validate(const RetentionPolicy& policy);

}  // namespace herald
