// herald/job_queue.hpp — where launch-job actions go: a queue the host implements.
//
// When a launch-job automation fires, the dispatcher renders the job's override template and
// hands a `JobRequest` to the host's `JobQueue`, with the same retry and history rules as a
// webhook. The host answers through the handler, from any thread:
//
// clang-format off
//     class LaunchQueue final : public herald::JobQueue {
//         void async_submit(herald::JobRequest job, Handler handler) override {
//             launcher.enqueue(job.queue, job.job, job.override_json,
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

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>

#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace herald {

/// A job to launch. `override_json` is the rendered override object (the bare object, whether
/// the template wrapped it in {"override": ...} or not; "{}" when there is none).
/// Value type; thread-compatible.
struct JobRequest {
    std::string delivery_id;  ///< stable across retries: dedupe on it
    int attempt = 1;
    std::string entity;
    std::string project;  ///< destination project
    std::string queue;
    std::string job;
    std::string job_version;
    std::string override_json;

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
/// handler inline; it may call it from any thread (herald moves on to its own executor). A
/// handler not called within `DispatcherConfig::job_timeout` (30 s) counts as a failed attempt,
/// retried on the schedule; its late answer is ignored.
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
