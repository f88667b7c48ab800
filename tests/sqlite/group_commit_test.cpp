// The group committer of the SQLite backend (src/sqlite/group_commit.hpp) on a database of its
// own, with a sync step the test controls.
#include "sqlite/group_commit.hpp"
#include "sqlite/temp_dir.hpp"

#include <herald/error.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

using herald::errc;
using herald::Error;
using herald::detail::sqlite::Connection;
using herald::detail::sqlite::GroupCommitter;
using herald::detail::sqlite::Query;
using herald::test::TempDir;

namespace {

struct Table {
    TempDir dir;
    Connection connection{(dir / "t.db").string(), /*create=*/true, ""};
    Table() { connection.exec("CREATE TABLE t (v INTEGER PRIMARY KEY)"); }
    std::int64_t rows() { return connection.scalar("SELECT count(*) FROM t"); }
};

void insert(Connection& c, std::int64_t v) {
    Query(c, "INSERT INTO t (v) VALUES (?1)")->bind(1, v).run();
}

/// Counts down completions of asynchronous writes and waits for them.
class Completions {
  public:
    explicit Completions(int expected) : left_(expected) {}
    std::function<void(std::exception_ptr)> callback() {
        return [this](std::exception_ptr error) {
            std::lock_guard lock(mutex_);
            if (error)
                ++failed_;
            if (--left_ == 0)
                done_.notify_all();
        };
    }
    int wait() {
        std::unique_lock lock(mutex_);
        done_.wait(lock, [&] { return left_ == 0; });
        return failed_;
    }

  private:
    std::mutex mutex_;
    std::condition_variable done_;
    int left_, failed_ = 0;
};

}  // namespace

TEST_CASE("a write returns once a sync after its commit finished", "[group_commit]") {
    Table table;
    std::atomic<int> written = 0;  // writes run so far, in commit order
    std::atomic<int> covered = 0;  // writes run before the last sync began
    std::atomic<int> syncs = 0;
    std::atomic<int> early = 0;  // writes that returned before a sync covered them
    {
        GroupCommitter committer(table.connection, 1024, [&] {
            covered = written.load();
            ++syncs;
        });
        std::vector<std::thread> writers;
        for (int t = 0; t < 8; ++t)
            writers.emplace_back([&, t] {
                for (int i = 0; i < 100; ++i) {
                    int mine = 0;
                    committer.run([&](Connection& c) {
                        insert(c, t * 1000 + i);
                        mine = ++written;
                    });
                    if (covered.load() < mine)
                        ++early;  // counted here, checked on the test's thread (Catch2 is not
                                  // thread-safe)
                }
            });
        for (auto& w : writers)
            w.join();
    }
    CHECK(early == 0);
    CHECK(table.rows() == 800);
    CHECK(syncs > 0);
    CHECK(syncs <= 800);
}

TEST_CASE("asynchronous writes commit in groups, each failure reported to its own writer",
          "[group_commit]") {
    Table table;
    constexpr int writes = 2000;
    Completions completions(writes);
    {
        GroupCommitter committer(table.connection, 1024, [] {});
        for (int i = 0; i < writes; ++i)
            // Every hundredth write repeats a key, so it fails; its batch commits the rest.
            committer.run_async([v = i % 100 == 99 ? i - 1 : i](Connection& c) { insert(c, v); },
                                completions.callback());
        CHECK(completions.wait() == writes / 100);
    }
    CHECK(table.rows() == writes - writes / 100);
}

TEST_CASE("after a failed sync every write fails with its error", "[group_commit]") {
    Table table;
    bool disk_broken = false;
    GroupCommitter committer(table.connection, 1024, [&] {
        if (disk_broken)
            throw Error(errc::storage_failure, "", "t.db-wal: syncing the WAL to disk failed");
    });
    committer.run([](Connection& c) { insert(c, 1); });
    disk_broken = true;
    const auto reason_of_write = [&](std::int64_t v) {
        try {
            committer.run([&](Connection& c) { insert(c, v); });
        } catch (const Error& e) {
            return e.reason();
        }
        return std::string("written");
    };
    CHECK(reason_of_write(2) == "t.db-wal: syncing the WAL to disk failed");
    disk_broken = false;  // the disk seems fine again, but what it lost cannot be known
    CHECK(reason_of_write(3) == "t.db-wal: syncing the WAL to disk failed");
    Completions completion(1);
    committer.run_async([](Connection& c) { insert(c, 4); }, completion.callback());
    CHECK(completion.wait() == 1);
}
