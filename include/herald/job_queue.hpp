// herald/job_queue.hpp — where launch-job actions go: a queue the host implements.
//
// When a launch-job automation fires, the dispatcher renders the job's override template and
// hands a `JobRequest` — the override and the event that fired it — to the host's `JobQueue`,
// with the same retry and history rules as a webhook. The host answers through the handler,
// from any thread:
//
// clang-format off
//     class LaunchQueue final : public herald::JobQueue {
//         void async_submit(herald::JobRequest job, Handler handler) override {
//             // The override as rendered, and who caused the firing, for the job's tags.
//             launcher.enqueue(job.queue, job.job, job.override_json, job.event.author,
//                              [h = std::move(handler)](bool ok) mutable {
//                                  std::move(h)(ok ? herald::JobResult{.accepted = true}
//                                                  : herald::JobResult{.retry = true,
//                                                                      .error = "queue full"});
//                              });
//         }
//     };
// clang-format on
//
// `MemoryJobQueue` keeps the jobs it accepts, for tests.
#pragma once

#include <herald/event.hpp>
#include <herald/firing.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>

#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace herald {

/// A job to launch, with what made it: `override_json` is the rendered override object (the
/// bare object, whether the template wrapped it in {"override": ...} or not; "{}" when there is
/// none), and `event` the event the automation fired on, whole — its author, the artifact
/// version (collection, index, URI, aliases, metadata) or the run, so a job can act on what
/// its override does not spell out. Value type; thread-compatible.
struct JobRequest {
    std::string delivery_id;  ///< stable across retries: dedupe on it
    int attempt = 1;
    std::string entity;
    std::string project;  ///< destination project
    std::string queue;
    std::string job;
    std::string job_version;
    std::string override_json;
    std::string automation_id;
    std::string automation_name;
    Event event;                              ///< the triggering event
    std::optional<MetricObservation> metric;  ///< what a run metric trigger saw, else empty

    friend bool operator==(const JobRequest&, const JobRequest&) = default;
};

/// The queue's answer. Accepted: the firing finishes. Otherwise it is retried on the schedule
/// when `retry` is set, else it fails for good; `error` goes into the history.
struct JobResult {
    bool accepted = false;
    bool retry = false;
    std::string error;
    std::string job_id;  ///< the host's id of the launched job, recorded in the history
};

/// Takes launch jobs. Implementations must be thread-safe. `async_submit` must not call the
/// handler inline; it may call it from any thread (herald moves on to its own executor).
///
/// Time-out: a handler not called within `DispatcherConfig::job_timeout` (default 30 s) counts
/// as a failed attempt, retried on the schedule like a 5xx (the next attempt has the same
/// `delivery_id` and a higher `attempt`: dedupe on the id, since the timed-out submission may
/// still have launched). Its late answer is ignored — it neither finishes nor fails the
/// delivery — but calling it stays safe, and it must still be called or destroyed.
class JobQueue {
  public:
    using Handler = boost::asio::any_completion_handler<void(JobResult)>;

    virtual ~JobQueue() = default;
    virtual void async_submit(JobRequest job, Handler handler) = 0;
};

/// A job queue in memory, for tests: accepts every job and keeps it, unless told to answer
/// otherwise for the next submissions. Handlers are posted to the executor given here.
/// Thread-safe.
class MemoryJobQueue final : public JobQueue {
  public:
    explicit MemoryJobQueue(boost::asio::any_io_executor executor);

    void async_submit(JobRequest job, Handler handler) override;

    /// Answers for the next submissions, in order, before accepting again.
    void enqueue_results(std::vector<JobResult> results);
    /// Every submission so far, accepted or not, in order.
    std::vector<JobRequest> submissions() const;

  private:
    boost::asio::any_io_executor executor_;
    mutable std::mutex mutex_;
    std::deque<JobResult> scripted_;
    std::vector<JobRequest> submissions_;
};

}  // namespace herald
