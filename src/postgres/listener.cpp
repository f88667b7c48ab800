#include "postgres/listener.hpp"

#include "postgres/connection.hpp"

#include <herald/error.hpp>

#include <algorithm>
#include <chrono>
#include <utility>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

namespace herald::detail::postgres {

class Listener::Watch final : public StoreWatch {
  public:
    Watch(std::shared_ptr<Listener> owner, StoreChange what, std::function<void()> listener)
        : owner(std::move(owner)), what(what), listener(std::move(listener)) {}
    ~Watch() override { owner->remove(this); }

    const std::shared_ptr<Listener> owner;
    const StoreChange what;
    const std::function<void()> listener;
};

Listener::Listener(std::string conninfo, std::string schema, Logger logger)
    : conninfo_(std::move(conninfo)), schema_(std::move(schema)), logger_(std::move(logger)) {
    if (::pipe2(stop_pipe_, O_CLOEXEC) != 0)
        throw Error(errc::storage_failure, "", "cannot make a pipe for the notification thread");
}

Listener::~Listener() {
    if (thread_.joinable()) {
        thread_.request_stop();
        const char stop = 0;
        (void)!::write(stop_pipe_[1], &stop, 1);
        thread_.join();
    }
    ::close(stop_pipe_[0]);
    ::close(stop_pipe_[1]);
}

std::unique_ptr<StoreWatch> Listener::watch(StoreChange what, std::function<void()> listener) {
    auto watch = std::make_unique<Watch>(shared_from_this(), what, std::move(listener));
    std::lock_guard lock(mutex_);
    watches_.push_back(watch.get());
    if (!thread_.joinable())
        thread_ = std::jthread([this](std::stop_token stop) { run(std::move(stop)); });
    return watch;
}

void Listener::remove(const Watch* watch) {
    std::lock_guard lock(mutex_);
    std::erase(watches_, watch);
}

void Listener::tell(const std::vector<StoreChange>& what) {
    std::lock_guard lock(mutex_);
    for (const Watch* watch : watches_)
        if (std::find(what.begin(), what.end(), watch->what) != what.end())
            watch->listener();
}

bool Listener::stopping_within(std::chrono::milliseconds wait) const {
    pollfd stop{.fd = stop_pipe_[0], .events = POLLIN, .revents = 0};
    return ::poll(&stop, 1, static_cast<int>(wait.count())) > 0;
}

void Listener::run(std::stop_token stop) {
    using namespace std::chrono_literals;
    std::unique_ptr<Connection> connection;
    bool listened = false;
    std::chrono::milliseconds backoff = 100ms;
    while (!stop.stop_requested()) {
        try {
            if (!connection) {
                connection = std::make_unique<Connection>(conninfo_, schema_);
                connection->exec_script("LISTEN " + connection->quote_identifier(schema_));
                backoff = 100ms;
                // What was sent while nobody listened is lost: the engines look now.
                if (std::exchange(listened, true))
                    tell({StoreChange::deliveries, StoreChange::automations});
            }
            pollfd fds[2] = {{.fd = connection->socket(), .events = POLLIN, .revents = 0},
                             {.fd = stop_pipe_[0], .events = POLLIN, .revents = 0}};
            if (::poll(fds, 2, -1) < 0 || fds[1].revents != 0)
                continue;
            std::vector<StoreChange> what;
            for (const std::string& payload : connection->notifications(schema_)) {
                // Anything else on the channel is someone else's.
                if (payload != deliveries_payload && payload != automations_payload)
                    continue;
                const StoreChange change = payload == automations_payload ? StoreChange::automations
                                                                          : StoreChange::deliveries;
                if (std::find(what.begin(), what.end(), change) == what.end())
                    what.push_back(change);
            }
            if (!what.empty())
                tell(what);
        } catch (const std::exception& e) {
            connection.reset();
            logger_.log(LogLevel::warning, "postgres.listen_failed",
                        {{"reason", e.what()}, {"retry_in_ms", std::to_string(backoff.count())}});
            if (stopping_within(backoff))
                return;
            backoff = std::min<std::chrono::milliseconds>(2 * backoff, 5s);
        }
    }
}

}  // namespace herald::detail::postgres
