// delivery/response_reader.hpp — reading one HTTP/1.1 response from bytes, without sockets:
// the HTTP client reads from its connection and feeds what arrives here, and the tests and the
// fuzzer feed byte strings. Interim 1xx answers (100 Continue, 103 Early Hints) are skipped;
// the header is bounded (beyond: an error) and the body kept up to a cap (beyond: the response
// is complete, marked truncated, and its connection not reused).
//
// `feed` parses what it can and says how many bytes it used; the caller keeps the rest and
// passes it again with what arrives next, the way a stream parser's buffer works. Once the
// response is done, the bytes not used belong to whatever follows it on the connection. How
// the bytes were cut never changes the outcome (each header is parsed once it is whole, and
// a body stops one byte past its cap), so a response reads the same over any network.
//
// clang-format off
//     ResponseReader reader{{.max_header = 16 * 1024, .max_body = 64 * 1024}};
//     std::string pending;  // received, not yet used
//     while (reader.state() == ResponseReader::State::need_more) {
//         if (auto bytes = receive())  // nullopt: the peer closed the connection
//             pending += *bytes;
//         else
//             reader.end_of_stream();
//         pending.erase(0, reader.feed(pending));
//     }
//     if (reader.state() == ResponseReader::State::failed)
//         log(reader.error().message());
//     else
//         use(reader.take_response(), reader.keep_alive());
// clang-format on
//
// Beast's parser does the parsing, inside response_reader.cpp only.
#pragma once

#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace herald::detail {

/// A header field as sent or received (names compare case-insensitively).
using HttpHeader = std::pair<std::string, std::string>;

/// What came back. When the request failed (error_code set) only `latency` and `diagnostic` are
/// meaningful: a response cut short by a timeout or reset is not reported in part.
struct HttpResponse {
    unsigned status = 0;  ///< HTTP status; 0 when the request failed
    std::vector<HttpHeader> headers;
    std::string body;        ///< at most DeliveryConfig::max_response_body bytes
    bool truncated = false;  ///< the body was longer than the bound (the rest was discarded)
    /// From taking a connection slot (so including connect and TLS) to the response's last byte
    /// read, or to the failure.
    std::chrono::nanoseconds latency{};
    /// On error: what happened, for logs and history ("ssrf: 10.0.0.1 is in a private range
    /// (10.0.0.0/8)", "connect 203.0.113.7:443: Connection refused"). Never holds request data.
    std::string diagnostic;

    /// The first header with this name (case-insensitive), if any.
    std::optional<std::string_view> header(std::string_view name) const;

    bool operator==(const HttpResponse&) const = default;
};

/// The bounds a ResponseReader enforces (DeliveryConfig's max_response_header and
/// max_response_body in the client).
struct ResponseLimits {
    /// Bytes of one response's header, status line to blank line; a longer one fails.
    std::size_t max_header = 16 * 1024;
    std::size_t max_body = 64 * 1024;  ///< body bytes kept; more truncate the response
};

/// Reads one final response (after any interim ones) from bytes fed in order. Not thread-safe,
/// not copyable; each response needs a reader of its own.
class ResponseReader {
  public:
    enum class State {
        need_more,  ///< feed more bytes, or end_of_stream() when the connection ended
        done,       ///< `response()` is complete; final
        failed,     ///< `error()` says why; final
    };

    explicit ResponseReader(ResponseLimits limits);
    ~ResponseReader();
    ResponseReader(const ResponseReader&) = delete;
    ResponseReader& operator=(const ResponseReader&) = delete;

    /// Parses the start of `bytes` and returns how many of them it used; the rest (say, a
    /// partial header line) must come again at the front of the next call. Uses nothing once
    /// done or failed, so a second response in the same bytes is left to the caller.
    std::size_t feed(std::string_view bytes);

    /// The connection ended. Completes a body delimited by the end of the connection; anything
    /// else unfinished fails: `http::error::end_of_stream` when no byte came at all,
    /// `http::error::partial_message` otherwise. No effect once done or failed.
    void end_of_stream();

    State state() const { return state_; }
    /// Why the response could not be read (a Beast `http::error`); empty unless failed.
    boost::system::error_code error() const { return error_; }
    /// Done: the connection may carry another request (HTTP keep-alive, not truncated, not 101
    /// Switching Protocols). False in any other state.
    bool keep_alive() const { return keep_alive_; }
    /// The response as read so far: status, headers, body, truncated.
    const HttpResponse& response() const { return response_; }
    /// Moves the response out; the reader's response is empty afterwards.
    HttpResponse take_response() { return std::exchange(response_, HttpResponse{}); }

  private:
    struct Parser;
    bool header_arrived(std::string_view bytes);
    void copy_header();
    void keep_body(std::string_view bytes);
    void finish_message();
    void finish();
    void fail(boost::system::error_code ec);

    ResponseLimits limits_;
    std::unique_ptr<Parser> parser_;
    HttpResponse response_;
    State state_ = State::need_more;
    boost::system::error_code error_;
    bool keep_alive_ = false;
    bool received_any_ = false;
};

}  // namespace herald::detail
