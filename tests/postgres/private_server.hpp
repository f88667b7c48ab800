// A PostgreSQL server of one test's own (server.sh with a state directory of its own), for a
// test that stops and starts it: the fixture's server is shared by the tests CTest runs at once.
#pragma once

#include "sqlite/temp_dir.hpp"
#include "support/process.hpp"

#include <fstream>
#include <stdexcept>
#include <string>

namespace herald::test {

class PrivateServer {
  public:
    /// A new cluster, started.
    PrivateServer() {
        script("start");
        std::ifstream file(state_ / "conninfo");
        std::getline(file, conninfo_);
    }
    ~PrivateServer() {
        try {
            script("stop");
        } catch (const std::exception&) {
            // Nothing to do in a destructor; the next start of the same state removes it.
        }
    }
    PrivateServer(const PrivateServer&) = delete;
    PrivateServer& operator=(const PrivateServer&) = delete;

    /// Its libpq keyword conninfo (a Unix socket in /tmp).
    const std::string& conninfo() const noexcept { return conninfo_; }
    /// Stops it at once, as a crash would, keeping its data.
    void halt() { script("halt"); }
    /// Starts it again on its data; returns once it accepts connections.
    void resume() { script("resume"); }

  private:
    void script(const std::string& command) {
        const ProcessResult r = run_process(
            {HERALD_SOURCE_DIR "/tests/postgres/server.sh", command, state_.path().string()}, "",
            scratch_.path());
        if (r.exit_code != 0)
            throw std::runtime_error("server.sh " + command + " failed: " + r.err);
    }

    TempDir state_;    ///< server.sh's state: where the cluster is, its conninfo
    TempDir scratch_;  ///< the script's captured output
    std::string conninfo_;
};

}  // namespace herald::test
