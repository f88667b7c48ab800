// The rows publishes write — event ids, firings, deliveries — gathered as arrays and inserted
// with one statement per table (`unnest` of array parameters): a group commit of many publishes
// costs three statements, not three a publish.
#pragma once

#include "postgres/connection.hpp"

#include <herald/firing.hpp>
#include <herald/outbox_store.hpp>
#include <herald/storage.hpp>

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace herald::detail::postgres {

/// Firings for `firings` (with the action and trigger of the delivery recorded with each, if
/// any), in the order they are added, which their `seq`s follow.
class FiringRows {
  public:
    void add(const Firing& firing, const Delivery* delivery);
    bool empty() const noexcept { return ids_.empty(); }
    /// Inserts the rows; throws herald::Error already_exists (field "id") for a firing the
    /// history has.
    void insert(Connection& c) const;
    /// Inserts the rows of firings the history does not have.
    void insert_missing(Connection& c) const;

  private:
    Result insert_new(Connection& c) const;
    ArrayParam id_, automation_id_, entity_, integration_, time_, body_, action_, trigger_;
    std::vector<std::string> ids_;
};

/// Deliveries for `outbox`, each joined to its firing's row (so a delivery whose firing is not
/// recorded is not inserted).
class OutboxRows {
  public:
    void add(const Delivery& delivery);
    bool empty() const noexcept { return ids_.empty(); }
    /// Inserts the rows; throws herald::Error already_exists (field "delivery_id") for a
    /// delivery the outbox has, or whose firing is not recorded.
    void insert(Connection& c) const;

  private:
    ArrayParam id_, due_, attempts_, round_start_, action_, trigger_;
    std::vector<std::string> ids_;
};

/// Event ids for `published_events` (`HistoryStore::remember_event`).
class EventRows {
  public:
    void add(std::string_view event_id, Timestamp time, std::span<const Firing> firings);
    bool empty() const noexcept { return ids_.empty(); }
    /// Inserts the rows; throws herald::Error already_exists (field "event_id") for an id
    /// remembered already. Of two engines recording one id, the second waits for the first
    /// to commit, and is then refused.
    void insert(Connection& c) const;

  private:
    ArrayParam id_, time_, firings_;
    std::vector<std::string> ids_;
};

/// What publishes write but their trigger state (which their writes apply at once), gathered
/// while a batch's writes run and inserted after them (`WriteQueue`), or at once by one record.
class PublishRows {
  public:
    /// Adds `record`'s event id (when it has one), firings and `queued` deliveries.
    void add(const PublishRecord& record, std::span<const Delivery> queued);
    /// Inserts what was added: event ids, then firings, then deliveries. Throws herald::Error
    /// already_exists, as `Storage::record_publish` does, for the first event id, firing or
    /// delivery recorded already (in a batch, of any of its publishes); then the transaction
    /// must be rolled back.
    void insert(Connection& c) const;

  private:
    EventRows events_;
    FiringRows firings_;
    OutboxRows outbox_;
};

}  // namespace herald::detail::postgres
