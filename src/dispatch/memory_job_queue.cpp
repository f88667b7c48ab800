#include <herald/job_queue.hpp>

#include <boost/asio/post.hpp>

namespace herald {

MemoryJobQueue::MemoryJobQueue(boost::asio::any_io_executor executor)
    : executor_(std::move(executor)) {}

void MemoryJobQueue::async_submit(JobRequest job, Handler handler) {
    JobResult result{.accepted = true};
    {
        std::lock_guard lock(mutex_);
        submissions_.push_back(job);
        if (!scripted_.empty()) {
            result = std::move(scripted_.front());
            scripted_.pop_front();
        }
    }
    boost::asio::post(executor_,
                      [handler = std::move(handler), result = std::move(result)]() mutable {
                          std::move(handler)(std::move(result));
                      });
}

void MemoryJobQueue::enqueue_results(std::vector<JobResult> results) {
    std::lock_guard lock(mutex_);
    for (JobResult& r : results)
        scripted_.push_back(std::move(r));
}

std::vector<JobRequest> MemoryJobQueue::submissions() const {
    std::lock_guard lock(mutex_);
    return submissions_;
}

}  // namespace herald
