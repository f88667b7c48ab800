// herald/resolver.hpp — how herald turns a webhook's host name into addresses.
//
// Every outgoing request resolves its host through a `Resolver`, so the SSRF rules check
// exactly the addresses herald then connects to, and tests can point names anywhere:
//
// clang-format off
//     auto dns = std::make_shared<herald::StaticResolver>(
//         io.get_executor(),
//         herald::StaticResolver::Table{
//             {"hooks.example", {boost::asio::ip::make_address("127.0.0.1")}}});
// clang-format on
//
// Hosts with their own DNS policy (a split-horizon resolver, a cache) implement the interface.
#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/system/error_code.hpp>

#include <map>
#include <string>
#include <vector>

namespace herald {

/// Resolves host names to IP addresses. Implementations must be thread-safe, must not invoke
/// the handler inline (post it to the handler's associated executor) and need not support
/// cancellation: herald stops waiting at its connect timeout and drops a late answer.
class Resolver {
  public:
    using Addresses = std::vector<boost::asio::ip::address>;
    /// Completion handler: `void(boost::system::error_code, Addresses)`. On success the list is
    /// non-empty; failures use Asio's resolver errors (e.g. `asio::error::host_not_found`).
    using Handler = boost::asio::any_completion_handler<void(boost::system::error_code, Addresses)>;

    virtual ~Resolver() = default;

    /// Looks up every address of `host`, a DNS name (never an IP literal), lower-case, without
    /// a trailing dot.
    virtual void async_resolve(std::string host, Handler handler) = 0;
};

/// The operating system's resolver (getaddrinfo through Asio), IPv4 and IPv6 addresses.
/// Lookups run on Asio's internal resolver thread; handlers are posted to their associated
/// executor, else to the executor given here. Thread-safe.
class SystemResolver final : public Resolver {
  public:
    explicit SystemResolver(boost::asio::any_io_executor executor);
    void async_resolve(std::string host, Handler handler) override;

  private:
    boost::asio::any_io_executor executor_;
};

/// A fixed name → addresses table, for tests and for hosts that pin their receivers.
/// A name not in the table fails with `asio::error::host_not_found`. Immutable after
/// construction, so thread-safe; handlers are posted like SystemResolver's.
class StaticResolver final : public Resolver {
  public:
    using Table = std::map<std::string, Addresses, std::less<>>;

    StaticResolver(boost::asio::any_io_executor executor, Table table);
    void async_resolve(std::string host, Handler handler) override;

  private:
    boost::asio::any_io_executor executor_;
    Table table_;
};

}  // namespace herald
