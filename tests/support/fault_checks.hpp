// What the storage backends' fault tests share: the firings they write, waiting for the work to
// come to something, and reading back what the history holds.
#pragma once

#include <herald/storage.hpp>

#include <chrono>
#include <functional>
#include <set>
#include <string>
#include <thread>
#include <utility>

namespace herald::test {

/// A pending firing of automation a1 at `time`.
inline Firing pending_firing(std::string id, Timestamp time) {
    Firing f;
    f.id = std::move(id);
    f.automation_id = "a1";
    f.time = time;
    f.status = FiringStatus::pending;
    return f;
}

/// Whether `done` holds within 20 s.
inline bool soon(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{20};
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds{1});
    }
    return true;
}

/// The ids of every firing in the history.
inline std::set<std::string> history_ids(Storage& store) {
    std::set<std::string> ids;
    for (const Firing& f : store.history().query({.limit = 1'000'000}))
        ids.insert(f.id);
    return ids;
}

}  // namespace herald::test
