#include "delivery/response_reader.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>

#include <algorithm>
#include <array>
#include <optional>

namespace herald::detail {
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;

namespace {

// Body bytes go through a buffer of this size on their way into HttpResponse::body.
constexpr std::size_t body_chunk_size = 16 * 1024;

// 1xx answers other than 101 Switching Protocols are interim: the final response follows.
bool is_interim(unsigned status) {
    return status >= 100 && status < 200 && status != 101;
}

}  // namespace

std::optional<std::string_view> HttpResponse::header(std::string_view name) const {
    for (const auto& [field, value] : headers)
        if (beast::iequals(field, name))
            return std::string_view(value);
    return std::nullopt;
}

// Beast's parser of the response under way (a fresh one after each interim response), and
// the buffer its body is a window onto, so that body bytes are copied once, into the response.
struct ResponseReader::Parser {
    void start(std::size_t header_limit) {
        parser.emplace();
        parser->header_limit(static_cast<std::uint32_t>(header_limit));
        parser->body_limit(boost::none);
        header_copied = false;
        header_searched = 0;
    }

    std::optional<http::response_parser<http::buffer_body>> parser;
    bool header_copied = false;
    std::size_t header_searched = 0;  // bytes of the header known not to hold its end
    std::array<char, body_chunk_size> chunk;
};

ResponseReader::ResponseReader(ResponseLimits limits)
    : limits_(limits), parser_(std::make_unique<Parser>()) {
    parser_->start(limits.max_header);
}

ResponseReader::~ResponseReader() = default;

std::size_t ResponseReader::feed(std::string_view bytes) {
    if (state_ != State::need_more || bytes.empty())
        return 0;
    received_any_ = true;
    auto& chunk = parser_->chunk;
    std::size_t used = 0;
    while (state_ == State::need_more && used < bytes.size()) {
        auto& parser = *parser_->parser;
        if (!parser.is_header_done() && !header_arrived(bytes.substr(used)))
            break;
        // Room for one byte past the cap, which tells that the body is too long: the reader
        // stops there, wherever the bytes were cut.
        const std::size_t room = limits_.max_body - response_.body.size();
        const std::size_t window = room < chunk.size() ? room + 1 : chunk.size();
        parser.get().body().data = chunk.data();
        parser.get().body().size = window;
        error_code ec;
        const std::size_t n =
            parser.put(beast::net::const_buffer(bytes.data() + used, bytes.size() - used), ec);
        used += n;
        if (!parser_->header_copied && parser.is_header_done())
            copy_header();
        keep_body({chunk.data(), window - parser.get().body().size});
        if (state_ != State::need_more)
            break;
        if (parser.is_done())
            finish_message();
        else if (ec == http::error::need_buffer || (!ec && n > 0))
            continue;
        else if (ec && ec != http::error::need_more)
            fail(ec);
        else
            break;
    }
    return used;
}

void ResponseReader::end_of_stream() {
    if (state_ != State::need_more)
        return;
    if (!received_any_)
        return fail(http::error::end_of_stream);
    // A header cut short, or none after an interim response: the response is missing, not empty.
    if (!parser_->parser->is_header_done())
        return fail(http::error::partial_message);
    error_code ec;
    parser_->parser->put_eof(ec);
    if (ec)
        return fail(ec);
    finish();
}

// Beast judges a header it is given in part on the part, and on later calls only once its
// end has come, so the same bytes cut elsewhere could fail otherwise (or not at all). It is
// given each header whole: nothing until the blank line that ends it is in `bytes`, within
// the limit, and the eight bytes Beast reads a version from at once are there too (a
// "header" shorter than that has none); a longer header fails here.
bool ResponseReader::header_arrived(std::string_view bytes) {
    constexpr std::string_view blank_line = "\r\n\r\n";
    constexpr std::size_t version_size = 8;  // "HTTP/1.1"
    const auto window = bytes.substr(0, limits_.max_header);
    if (window.find(blank_line, parser_->header_searched) != std::string_view::npos)
        return bytes.size() >= version_size;
    // The bytes come again with more after them: the search goes on where it stopped.
    parser_->header_searched =
        std::max(window.size(), blank_line.size() - 1) - (blank_line.size() - 1);
    if (bytes.size() >= limits_.max_header)
        fail(http::error::header_limit);
    return false;
}

void ResponseReader::copy_header() {
    const auto& header = parser_->parser->get();
    response_.status = header.result_int();
    response_.headers.reserve(16);
    for (const auto& field : header)
        response_.headers.emplace_back(field.name_string(), field.value());
    parser_->header_copied = true;
}

// Keeps what fits under the cap; a body beyond it ends the response, truncated.
void ResponseReader::keep_body(std::string_view bytes) {
    const std::size_t room = limits_.max_body - response_.body.size();
    response_.body.append(bytes.substr(0, room));
    if (bytes.size() > room) {
        response_.truncated = true;
        finish();
    }
}

// A complete message: the final response, or an interim one that the final response follows.
void ResponseReader::finish_message() {
    if (!is_interim(response_.status))
        return finish();
    parser_->start(limits_.max_header);
    response_ = HttpResponse{};
}

void ResponseReader::finish() {
    state_ = State::done;
    keep_alive_ = !response_.truncated && parser_->parser->keep_alive() && response_.status != 101;
}

void ResponseReader::fail(error_code ec) {
    state_ = State::failed;
    error_ = ec;
}

}  // namespace herald::detail
