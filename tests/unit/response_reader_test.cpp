// Reading HTTP responses from bytes (src/delivery/response_reader.hpp). Every response is fed
// whole, one byte at a time and cut in two at every point (at a spread of points when it is
// large), the way a connection's reads may cut it, and every way must read the same. The
// shapes of tests/support/test_server.hpp's faults are here as bytes; the client reading them
// from a live receiver is tests/live/http_client_test.cpp.
#include "delivery/response_reader.hpp"
#include "support/piecewise_read.hpp"

#include <boost/beast/http/error.hpp>

#include <catch2/catch.hpp>

#include <limits>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace herald::test {

std::ostream& operator<<(std::ostream& out, const PiecewiseRead& read) {
    out << "{state " << static_cast<int>(read.state) << ", error \"" << read.error.message()
        << "\", status " << read.response.status << ", " << read.response.headers.size()
        << " headers, body \"" << read.response.body.substr(0, 40) << "\" ("
        << read.response.body.size() << " bytes), truncated " << read.response.truncated
        << ", keep-alive " << read.keep_alive << ", used " << read.used << ", lawful "
        << read.lawful << "}";
    return out;
}

}  // namespace herald::test

namespace {

using namespace herald::detail;
using herald::test::PiecewiseRead;
using herald::test::read_in_pieces;
using State = ResponseReader::State;
namespace http = boost::beast::http;

// Whether the connection ends after the bytes (end_of_stream) or stays open.
enum class Ending { open, closed };

// Where a response of `size` bytes is cut in two: everywhere, or at 200 points when it is long.
std::vector<std::size_t> cut_points(std::size_t size) {
    constexpr std::size_t everywhere_up_to = 4096;
    std::vector<std::size_t> points;
    const std::size_t step = size <= everywhere_up_to ? 1 : size / 200;
    for (std::size_t at = 1; at < size; at += step)
        points.push_back(at);
    return points;
}

// The read of `bytes`, after checking that one byte at a time and every cut in two read alike.
PiecewiseRead read(std::string_view bytes, Ending ending = Ending::open,
                   ResponseLimits limits = {}) {
    const bool closed = ending == Ending::closed;
    const auto whole = read_in_pieces(bytes, {bytes.size() + 1}, closed, limits);
    CHECK(whole.lawful);
    CHECK(read_in_pieces(bytes, {1}, closed, limits) == whole);
    for (const std::size_t cut : cut_points(bytes.size())) {
        INFO("cut at byte " << cut);
        REQUIRE(read_in_pieces(bytes, {cut, bytes.size()}, closed, limits) == whole);
    }
    return whole;
}

// Beast's simple 200 as the test server writes it.
constexpr std::string_view ok_response =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok";

const std::vector<HttpHeader> ok_headers{{"Content-Type", "text/plain"}, {"Content-Length", "2"}};

std::string with_body(std::size_t size, char c) {
    return "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
           std::to_string(size) + "\r\n\r\n" + std::string(size, c);
}

}  // namespace

TEST_CASE("a 200 with Content-Length is read whole and keeps the connection", "[response]") {
    const auto result = read(ok_response);
    CHECK(result.state == State::done);
    CHECK(result.response.status == 200);
    CHECK(result.response.headers == ok_headers);
    CHECK(result.response.body == "ok");
    CHECK_FALSE(result.response.truncated);
    CHECK(result.keep_alive);
    CHECK(result.used == ok_response.size());
}

TEST_CASE("a chunked body is put together", "[response]") {
    constexpr std::string_view chunked =
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        "4\r\nWiki\r\n5;ext=1\r\npedia\r\n0\r\n\r\n";
    const auto result = read(chunked);
    CHECK(result.state == State::done);
    CHECK(result.response.body == "Wikipedia");
    CHECK(result.keep_alive);
    CHECK(result.used == chunked.size());
}

TEST_CASE("a body without length ends with the connection", "[response]") {
    constexpr std::string_view until_eof =
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n"
        "up to the end";
    const auto open = read(until_eof, Ending::open);
    CHECK(open.state == State::need_more);
    CHECK(open.response.body == "up to the end");

    const auto closed = read(until_eof, Ending::closed);
    CHECK(closed.state == State::done);
    CHECK(closed.response.status == 200);
    CHECK(closed.response.body == "up to the end");
    CHECK_FALSE(closed.keep_alive);
}

TEST_CASE("interim answers are skipped, their headers with them", "[response]") {
    SECTION("103 Early Hints, as the test server's early_hints sends it") {
        const std::string bytes =
            "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n" +
            std::string(ok_response);
        const auto result = read(bytes);
        CHECK(result.state == State::done);
        CHECK(result.response.status == 200);
        CHECK(result.response.headers == ok_headers);
        CHECK(result.response.body == "ok");
        CHECK(result.keep_alive);
        CHECK(result.used == bytes.size());
    }
    SECTION("100 Continue, twice") {
        const std::string bytes =
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n" + std::string(ok_response);
        const auto result = read(bytes);
        CHECK(result.state == State::done);
        CHECK(result.response.status == 200);
        CHECK(result.response.body == "ok");
    }
    SECTION("an interim answer alone is not a response") {
        constexpr std::string_view hints = "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n";
        CHECK(read(hints).state == State::need_more);
        const auto closed = read(hints, Ending::closed);
        CHECK(closed.state == State::failed);
        CHECK(closed.error == http::error::partial_message);
        CHECK(closed.response.status == 0);
    }
}

TEST_CASE("a body above the cap is cut there and ends the connection", "[response]") {
    const ResponseLimits limits{.max_body = 10};
    const std::string bytes = with_body(25, 'b');
    const auto result = read(bytes, Ending::open, limits);
    CHECK(result.state == State::done);
    CHECK(result.response.status == 200);
    CHECK(result.response.body == std::string(10, 'b'));
    CHECK(result.response.truncated);
    CHECK_FALSE(result.keep_alive);
    CHECK(result.used == bytes.size() - 25 + 11);  // stops one byte past the cap

    SECTION("a body of exactly the cap is whole") {
        const auto exact = read(with_body(10, 'b'), Ending::open, limits);
        CHECK(exact.state == State::done);
        CHECK(exact.response.body == std::string(10, 'b'));
        CHECK_FALSE(exact.response.truncated);
        CHECK(exact.keep_alive);
    }
    SECTION("one byte more is truncated") {
        const auto over = read(with_body(11, 'b'), Ending::open, limits);
        CHECK(over.response.body == std::string(10, 'b'));
        CHECK(over.response.truncated);
    }
    SECTION("an unbounded body past the cap is cut without waiting for the end") {
        const auto until_eof = read("HTTP/1.1 200 OK\r\n\r\n" + std::string(30, 'e'));
        CHECK(until_eof.state == State::need_more);
        const auto capped =
            read("HTTP/1.1 200 OK\r\n\r\n" + std::string(30, 'e'), Ending::open, limits);
        CHECK(capped.state == State::done);
        CHECK(capped.response.truncated);
        CHECK(capped.response.body == std::string(10, 'e'));
    }
}

TEST_CASE("a cap as large as a size can be keeps every byte", "[response]") {
    const auto result = read(with_body(100, 'u'), Ending::open,
                             {.max_body = std::numeric_limits<std::size_t>::max()});
    CHECK(result.state == State::done);
    CHECK(result.response.body == std::string(100, 'u'));
    CHECK_FALSE(result.response.truncated);
}

TEST_CASE("a header above the limit fails the response", "[response]") {
    const std::string header =
        "HTTP/1.1 200 OK\r\nX-Pad: " + std::string(60, 'p') + "\r\nContent-Length: 2\r\n\r\n";
    const std::string bytes = header + "ok";
    const auto within = read(bytes, Ending::open, {.max_header = header.size()});
    CHECK(within.state == State::done);
    CHECK(within.response.body == "ok");

    const auto beyond = read(bytes, Ending::open, {.max_header = header.size() - 1});
    CHECK(beyond.state == State::failed);
    CHECK(beyond.error == http::error::header_limit);
    CHECK_FALSE(beyond.keep_alive);

    SECTION("the limit holds for each response, interim ones included") {
        const std::string hints = "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n";
        const auto two = read(hints + bytes, Ending::open, {.max_header = header.size()});
        CHECK(two.state == State::done);
        CHECK(two.response.status == 200);
    }
}

TEST_CASE("Connection: close answers once", "[response]") {
    const auto result = read(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n"
        "Content-Length: 2\r\n\r\nok");
    CHECK(result.state == State::done);
    CHECK(result.response.body == "ok");
    CHECK_FALSE(result.keep_alive);
}

TEST_CASE("HTTP/1.0 keeps the connection only when it says so", "[response]") {
    const auto plain = read("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok");
    CHECK(plain.state == State::done);
    CHECK(plain.response.body == "ok");
    CHECK_FALSE(plain.keep_alive);

    const auto kept =
        read("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok");
    CHECK(kept.state == State::done);
    CHECK(kept.keep_alive);
}

TEST_CASE("a response cut short by the end of the connection fails", "[response]") {
    SECTION("mid-body, as reset_mid_body's half before its reset") {
        constexpr std::string_view half =
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n"
            "only fifty bytes of the hundred promised arrive...";
        const auto open = read(half);
        CHECK(open.state == State::need_more);
        CHECK(open.response.body == "only fifty bytes of the hundred promised arrive...");
        const auto closed = read(half, Ending::closed);
        CHECK(closed.state == State::failed);
        CHECK(closed.error == http::error::partial_message);
    }
    SECTION("mid-chunk") {
        const auto closed =
            read("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWi", Ending::closed);
        CHECK(closed.state == State::failed);
        CHECK(closed.error == http::error::partial_message);
    }
    SECTION("mid-header") {
        const auto closed = read("HTTP/1.1 200 OK\r\nContent-Ty", Ending::closed);
        CHECK(closed.state == State::failed);
        CHECK(closed.error == http::error::partial_message);
    }
    SECTION("before any byte") {
        const auto closed = read("", Ending::closed);
        CHECK(closed.state == State::failed);
        CHECK(closed.error == http::error::end_of_stream);
    }
}

TEST_CASE("a garbage status line fails", "[response]") {
    const auto garbage = read("HTTP/1.1 two hundred OK\r\n\r\n");
    CHECK(garbage.state == State::failed);
    CHECK(garbage.error == http::error::bad_status);

    const auto not_http = read("<html><body>hello</body></html>\r\n\r\n");
    CHECK(not_http.state == State::failed);
    CHECK(not_http.error == http::error::bad_version);

    // A blank line before the eight bytes of a version: there is none, however it was cut.
    CHECK(read("100\r\n\r\nonly fifty", Ending::closed).error == http::error::bad_version);
    CHECK(read("\r\n\r\n", Ending::closed).error == http::error::partial_message);

    // Until a blank line ends it, it might be the first line of a long header: the end of the
    // connection or the header limit settles it.
    constexpr std::string_view ssh = "SSH-2.0-OpenSSH_9.6\r\n";
    CHECK(read(ssh).state == State::need_more);
    CHECK(read(ssh, Ending::closed).error == http::error::partial_message);
    CHECK(read(ssh, Ending::open, {.max_header = 16}).error == http::error::header_limit);
}

TEST_CASE("a 101 is final and ends HTTP on the connection", "[response]") {
    constexpr std::string_view switching =
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
    const std::string bytes = std::string(switching) + "\x81\x05hello";
    const auto result = read(bytes);
    CHECK(result.state == State::done);
    CHECK(result.response.status == 101);
    CHECK(result.response.body.empty());
    CHECK_FALSE(result.keep_alive);
    CHECK(result.used == switching.size());
}

TEST_CASE("pipelined responses are read one at a time", "[response]") {
    const std::string second =
        "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\nboom";
    const std::string bytes = std::string(ok_response) + second;
    const auto first = read(bytes);
    CHECK(first.state == State::done);
    CHECK(first.response.status == 200);
    CHECK(first.response.body == "ok");
    CHECK(first.used == ok_response.size());

    const auto next = read(std::string_view(bytes).substr(first.used));
    CHECK(next.state == State::done);
    CHECK(next.response.status == 500);
    CHECK(next.response.body == "boom");
    CHECK(next.used == second.size());
}

TEST_CASE("the test server's fault shapes", "[response]") {
    SECTION("trickle: 200 bytes of body, every way they may arrive") {
        const auto result = read(with_body(200, 't'));
        CHECK(result.state == State::done);
        CHECK(result.response.body == std::string(200, 't'));
        CHECK(result.keep_alive);
    }
    SECTION("slow_headers: a header that never ends") {
        const std::string slow = "HTTP/1.1 200 OK\r\nX-Slow: " + std::string(400, 's');
        CHECK(read(slow).state == State::need_more);
        CHECK(read(slow, Ending::closed).error == http::error::partial_message);
        const auto limited = read(slow, Ending::open, {.max_header = 256});
        CHECK(limited.state == State::failed);
        CHECK(limited.error == http::error::header_limit);
    }
    SECTION("ok_then_close: a whole keep-alive response, then the connection ends") {
        const auto result = read(ok_response, Ending::closed);
        CHECK(result.state == State::done);
        CHECK(result.keep_alive);
        // The next request on that connection reads nothing but the end.
        CHECK(read("", Ending::closed).error == http::error::end_of_stream);
    }
    SECTION("huge_body: 10 MB against the default 64 KiB cap") {
        const std::string huge = with_body(10 * 1024 * 1024, 'x');
        const auto result = read(huge);
        CHECK(result.state == State::done);
        CHECK(result.response.body.size() == ResponseLimits{}.max_body);
        CHECK(result.response.truncated);
        CHECK_FALSE(result.keep_alive);
        CHECK(result.used < huge.size());
    }
}

TEST_CASE("done and failed are final", "[response]") {
    ResponseReader done{{}};
    CHECK(done.feed(ok_response) == ok_response.size());
    REQUIRE(done.state() == State::done);
    CHECK(done.feed(ok_response) == 0);
    done.end_of_stream();
    CHECK(done.state() == State::done);
    CHECK(done.take_response().body == "ok");
    CHECK(done.response().body.empty());

    ResponseReader failed{{}};
    failed.feed("XTTP/1.1 200 OK\r\n\r\n");
    REQUIRE(failed.state() == State::failed);
    const auto error = failed.error();
    CHECK(failed.feed(ok_response) == 0);
    failed.end_of_stream();
    CHECK(failed.state() == State::failed);
    CHECK(failed.error() == error);
}
