// Publishing as a streaming host does: `Engine::async_publish` with a bounded window of
// publishes unanswered at once.
#pragma once

#include <herald/engine.hpp>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <condition_variable>
#include <cstddef>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <thread>

namespace herald::bench {

/// Publishes `make_event(i)` for i in [0, count) through `async_publish`, at most `window`
/// unanswered at once, and returns once every one is durable; exits on the first refusal.
template <class MakeEvent>
void publish_all(Engine& engine, std::size_t count, std::size_t window, MakeEvent&& make_event) {
    namespace asio = boost::asio;
    std::mutex mutex;
    std::condition_variable answered;
    std::size_t unanswered = 0;
    asio::io_context io;  // runs the completion handlers
    std::thread handlers([&] {
        auto work = asio::make_work_guard(io);
        io.run();
    });
    for (std::size_t i = 0; i < count; ++i) {
        {
            std::unique_lock lock(mutex);
            answered.wait(lock, [&] { return unanswered < window; });
            ++unanswered;
        }
        engine.async_publish(
            make_event(i),
            asio::bind_executor(io, [&](boost::system::error_code ec, const PublishReceipt&) {
                if (ec) {
                    std::cerr << "publish: " << ec.message() << '\n';
                    std::exit(1);
                }
                std::lock_guard lock(mutex);
                --unanswered;
                answered.notify_one();
            }));
    }
    {
        std::unique_lock lock(mutex);
        answered.wait(lock, [&] { return unanswered == 0; });
    }
    io.stop();
    handlers.join();
}

}  // namespace herald::bench
