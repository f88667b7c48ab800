// Reading an HTTP response the way a connection delivers it, in pieces, for the ResponseReader
// unit tests and its fuzz target (header-only: the fuzzer compiles it without the test
// support library). What the reader leaves unused is passed again in front of the next piece,
// as the client's buffer does, and the reader's rules are checked at every step. Test code only.
#pragma once

#include "delivery/response_reader.hpp"

#include <boost/system/error_code.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace herald::test {

/// What a reader made of some bytes, comparable across the ways they were cut.
struct PiecewiseRead {
    detail::ResponseReader::State state = detail::ResponseReader::State::need_more;
    boost::system::error_code error;
    detail::HttpResponse response;
    bool keep_alive = false;
    std::size_t used = 0;  ///< bytes the reader took; the rest are the caller's
    /// Every step kept the rules: no feed took more than it was given, or anything once done
    /// or failed, or changed a done or failed reader; no body grew past its cap; a reader that
    /// needs more takes nothing of what it left; the end of the connection settles the reader;
    /// keep-alive only when done and whole; a done response is not an interim 1xx.
    bool lawful = true;

    bool operator==(const PiecewiseRead&) const = default;
};

/// Reads `bytes` in pieces of the sizes in `pieces` (taken in turn, all above 0), and then
/// ends the connection when `closed`.
inline PiecewiseRead read_in_pieces(std::string_view bytes, const std::vector<std::size_t>& pieces,
                                    bool closed, detail::ResponseLimits limits) {
    using State = detail::ResponseReader::State;
    detail::ResponseReader reader{limits};
    PiecewiseRead read;
    std::string pending;
    const auto feed = [&] {
        const State before = reader.state();
        const auto error = reader.error();
        const std::size_t used = reader.feed(pending);
        if (used > pending.size() ||
            (before != State::need_more &&
             (used != 0 || reader.state() != before || reader.error() != error)) ||
            reader.response().body.size() > limits.max_body)
            read.lawful = false;
        pending.erase(0, used);
    };
    for (std::size_t start = 0, turn = 0; start < bytes.size(); ++turn) {
        const std::size_t size = pieces[turn % pieces.size()];
        pending.append(bytes.substr(start, size));
        start += size;
        feed();
    }
    if (reader.state() == State::need_more && reader.feed(pending) != 0)
        read.lawful = false;
    if (closed) {
        reader.end_of_stream();
        if (reader.state() == State::need_more)
            read.lawful = false;
        feed();
    }
    const unsigned status = reader.response().status;
    if ((reader.keep_alive() && (reader.state() != State::done || reader.response().truncated)) ||
        (reader.state() == State::done && status >= 100 && status < 200 && status != 101) ||
        (reader.state() == State::failed) != bool(reader.error()))
        read.lawful = false;
    read.state = reader.state();
    read.error = reader.error();
    read.response = reader.take_response();
    read.keep_alive = reader.keep_alive();
    read.used = bytes.size() - pending.size();
    return read;
}

}  // namespace herald::test
