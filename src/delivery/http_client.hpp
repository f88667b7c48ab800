// delivery/http_client.hpp — herald's HTTP/1.1 client for webhook and Slack deliveries.
//
// One POST per call, over keep-alive connection pools per (scheme, host, port), with the
// SSRF rules, timeouts and bounds of `DeliveryConfig`. Redirects are never followed: a 3xx is
// a response like any other.
//
// clang-format off
//     HttpClient client{io.get_executor(), config,
//                       std::make_shared<SystemResolver>(io.get_executor())};
//     HttpRequest request{.url = boost::urls::url{"https://hooks.example/x"},
//                         .headers = {{"Content-Type", "application/json"}},
//                         .body = payload};
//     auto [ec, response] = co_await client.async_send(std::move(request),
//                                                      asio::as_tuple(asio::use_awaitable));
//     if (ec)
//         log(ec.message(), response.diagnostic);
//     else
//         log(response.status);
// clang-format on
//
// The coroutines live in http_client.cpp only; the response is read by a ResponseReader
// (response_reader.hpp) fed from the connection.
#pragma once

#include "delivery/response_reader.hpp"

#include <herald/delivery_config.hpp>
#include <herald/delivery_error.hpp>
#include <herald/resolver.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/system/error_code.hpp>
#include <boost/url/url.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace herald::detail {

/// One outgoing request. The method is always POST. The client adds `Host`, `User-Agent`
/// and `Content-Length`; everything else (Content-Type, signatures, delivery id) is the
/// caller's.
struct HttpRequest {
    boost::urls::url url;  ///< absolute http:// or https:// URL
    std::vector<HttpHeader> headers;
    std::string body;
};

/// Sends POST requests. Thread safety: `async_send` and `cancel` may be called from any thread;
/// the client's state lives on an internal strand of the executor given to the constructor.
/// Completion: the handler runs on its associated executor, else on that constructor executor;
/// never inline. Cancellation: per-operation (terminal) through the handler's cancellation slot;
/// a cancelled request completes with `asio::error::operation_aborted` and its connection is
/// closed. Destroying the client (or `cancel()`) aborts everything in flight or queued.
/// Work: the client keeps its executor busy only while requests are in flight or idle
/// keep-alive connections are pooled (closed after `idle_timeout`), so `io_context::run`
/// returns about an idle timeout after traffic stops.
class HttpClient {
  public:
    using Signature = void(boost::system::error_code, HttpResponse);
    using Handler = boost::asio::any_completion_handler<Signature>;

    /// Throws herald::Error (invalid_argument) for a malformed allow-list entry or an
    /// unreadable CA file.
    HttpClient(boost::asio::any_io_executor executor, DeliveryConfig config,
               std::shared_ptr<Resolver> resolver);
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    /// Sends `request`; completes with `void(error_code, HttpResponse)`. Any HTTP status,
    /// including 3xx/4xx/5xx, is success at this level (ec == {}); ec is a `delivery_errc` or
    /// `operation_aborted` when no complete response arrived (a body cut at the bound is complete:
    /// `truncated` is set). Interim 1xx answers are skipped.
    template <class CompletionToken>
    auto async_send(HttpRequest request, CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken, Signature>(
            [this](auto handler, HttpRequest req) {
                send(std::move(req), Handler{std::move(handler)});
            },
            token, std::move(request));
    }

    /// Aborts every queued and in-flight request (operation_aborted) and closes all connections.
    void cancel();

  private:
    class Impl;
    void send(HttpRequest request, Handler handler);
    std::shared_ptr<Impl> impl_;
};

}  // namespace herald::detail
