#include "util/ids.hpp"

#include <catch2/catch.hpp>

#include <set>
#include <string>

TEST_CASE("ids are version 7 UUIDs, unique and time-ordered", "[ids]") {
    std::set<std::string> seen;
    std::string previous;
    for (int i = 0; i < 10'000; ++i) {
        const std::string id = herald::detail::new_uuid();
        REQUIRE(id.size() == 36);
        CHECK(id[14] == '7');
        CHECK(std::string("89ab").find(id[19]) != std::string::npos);
        CHECK(seen.insert(id).second);
        // The first 48 bits are milliseconds: later ids never sort before earlier ones' time.
        CHECK(id.substr(0, 13) >= previous.substr(0, std::min<std::size_t>(13, previous.size())));
        previous = id;
    }
}
