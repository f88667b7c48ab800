// The PostgreSQL server the tests run against (server.sh, started by a CTest fixture): its
// connection string, a fresh schema name per use, and raw SQL for looking behind the backend.
#pragma once

#include <libpq-fe.h>

#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace herald::test {

/// The test server's conninfo, as server.sh wrote it.
inline std::string postgres_conninfo() {
    std::ifstream file(HERALD_TEST_POSTGRES_CONNINFO);
    std::string conninfo;
    if (!std::getline(file, conninfo) || conninfo.empty())
        throw std::runtime_error("no PostgreSQL test server: " HERALD_TEST_POSTGRES_CONNINFO
                                 " is missing (run through ctest, which starts it)");
    return conninfo;
}

/// The test server as a postgresql:// URI, what `herald --db` takes: `host=/tmp/x user=u
/// dbname=d` becomes `postgresql:///d?host=%2Ftmp%2Fx&user=u`.
inline std::string postgres_uri() {
    std::string host, user, dbname;
    std::istringstream words(postgres_conninfo());
    for (std::string word; words >> word;) {
        const auto eq = word.find('=');
        const std::string key = word.substr(0, eq), value = word.substr(eq + 1);
        (key == "host" ? host : key == "user" ? user : dbname) = value;
    }
    std::string encoded;
    for (char ch : host)
        encoded += ch == '/' ? std::string("%2F") : std::string(1, ch);
    return "postgresql:///" + dbname + "?host=" + encoded + "&user=" + user;
}

/// A schema name no other test uses.
inline std::string fresh_schema() {
    static std::mt19937_64 random{std::random_device{}()};
    return "t_" + std::to_string(random());
}

/// A libpq connection of the test's own, beside herald's: for reading the tables behind the
/// backend's back, holding locks against it, and finding its connections in pg_stat_activity.
class RawConnection {
  public:
    explicit RawConnection(const std::string& conninfo = postgres_conninfo())
        : conn_(PQconnectdb(conninfo.c_str()), PQfinish) {
        if (PQstatus(conn_.get()) != CONNECTION_OK)
            throw std::runtime_error(PQerrorMessage(conn_.get()));
    }

    /// Runs `sql` (statements separated by semicolons); the first column of every row of the
    /// last, as text.
    std::vector<std::string> query(const std::string& sql) {
        std::unique_ptr<PGresult, void (*)(PGresult*)> result(PQexec(conn_.get(), sql.c_str()),
                                                              PQclear);
        const ExecStatusType status = PQresultStatus(result.get());
        if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK)
            throw std::runtime_error(PQresultErrorMessage(result.get()));
        std::vector<std::string> rows;
        for (int i = 0; i < PQntuples(result.get()); ++i)
            rows.emplace_back(PQgetvalue(result.get(), i, 0));
        return rows;
    }

  private:
    std::unique_ptr<PGconn, void (*)(PGconn*)> conn_;
};

/// Runs `sql` on a connection of its own; the first column of every row, as text.
inline std::vector<std::string> raw_query(const std::string& sql,
                                          const std::string& conninfo = postgres_conninfo()) {
    return RawConnection(conninfo).query(sql);
}

}  // namespace herald::test
