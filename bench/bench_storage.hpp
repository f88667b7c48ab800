// The storage a benchmark runs on, chosen on its command line: --storage sqlite|memory|postgres
// and --postgres CONNINFO.
#pragma once

#include <herald/memory_storage.hpp>
#include <herald/sqlite/database.hpp>
#include <herald/storage.hpp>
#if HERALD_BENCH_WITH_POSTGRES
#include <herald/postgres/database.hpp>
#endif

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

namespace herald::bench {

struct StorageChoice {
    std::string kind = "sqlite";  ///< sqlite, memory or postgres
    std::string postgres;         ///< conninfo, for postgres

    /// Takes `--storage` and `--postgres`: true when `flag` is one of them.
    bool take(const std::string& flag, const std::string& value) {
        if (flag == "--storage")
            kind = value;
        else if (flag == "--postgres")
            postgres = value;
        else
            return false;
        return true;
    }
    /// What is wrong with the choice, or "" (memory is refused unless `memory_too`).
    std::string problem(bool memory_too = true) const {
        if (kind != "sqlite" && kind != "postgres" && (kind != "memory" || !memory_too))
            return memory_too ? "--storage: sqlite, memory or postgres"
                              : "--storage: sqlite or postgres";
        if (kind == "postgres" && postgres.empty())
            return "--storage postgres needs --postgres CONNINFO";
#if !HERALD_BENCH_WITH_POSTGRES
        if (kind == "postgres")
            return "--storage postgres: built without herald::postgres";
#endif
        return "";
    }
};

/// The chosen storage, fresh: an SQLite file in a temporary folder (default options but
/// `sqlite_options`), removed with this object; MemoryStorage; or a PostgreSQL schema of its own,
/// `<prefix>_<pid>`, with default options.
class BenchStorage {
  public:
    BenchStorage(const StorageChoice& choice, const std::string& prefix,
                 herald::sqlite::Options sqlite_options = {})
        : choice_(choice), schema_(prefix + "_" + std::to_string(::getpid())) {
        if (choice.kind == "sqlite") {
            std::string name = "/tmp/herald-" + prefix + "-XXXXXX";
            if (!::mkdtemp(name.data()))
                throw std::runtime_error("mkdtemp failed");
            folder = name;
            storage = herald::sqlite::open(folder / "herald.db", std::move(sqlite_options));
        } else if (choice.kind == "memory") {
            storage = std::make_shared<herald::MemoryStorage>();
        } else {
            storage = open_again();
        }
    }
    BenchStorage(const BenchStorage&) = delete;
    BenchStorage& operator=(const BenchStorage&) = delete;
    ~BenchStorage() {
        storage.reset();
        if (!folder.empty())
            std::filesystem::remove_all(folder);
    }

    /// The PostgreSQL schema opened once more: another engine's own connections to it.
    std::shared_ptr<herald::Storage> open_again() const {
#if HERALD_BENCH_WITH_POSTGRES
        return herald::postgres::open(choice_.postgres, {.schema = schema_});
#else
        throw std::logic_error("built without herald::postgres");
#endif
    }

    std::shared_ptr<herald::Storage> storage;
    std::filesystem::path folder;  ///< the SQLite file's, else empty

  private:
    StorageChoice choice_;
    std::string schema_;
};

}  // namespace herald::bench
