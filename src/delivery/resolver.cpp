#include <herald/resolver.hpp>

#include <boost/asio/append.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <memory>
#include <utility>

namespace herald {
namespace asio = boost::asio;

namespace {

// Completes `handler` through its associated executor (else `fallback`), never inline.
void post_completion(const asio::any_io_executor& fallback, Resolver::Handler handler,
                     boost::system::error_code ec, Resolver::Addresses addresses) {
    asio::post(fallback, asio::append(std::move(handler), ec, std::move(addresses)));
}

}  // namespace

SystemResolver::SystemResolver(asio::any_io_executor executor) : executor_(std::move(executor)) {}

void SystemResolver::async_resolve(std::string host, Handler handler) {
    auto resolver = std::make_shared<asio::ip::tcp::resolver>(executor_);
    resolver->async_resolve(
        host, "",
        [resolver, executor = executor_, handler = std::move(handler)](
            boost::system::error_code ec, asio::ip::tcp::resolver::results_type results) mutable {
            Addresses addresses;
            for (const auto& entry : results) {
                auto address = entry.endpoint().address();
                if (std::find(addresses.begin(), addresses.end(), address) == addresses.end())
                    addresses.push_back(address);
            }
            if (!ec && addresses.empty())
                ec = asio::error::host_not_found;
            post_completion(executor, std::move(handler), ec, std::move(addresses));
        });
}

StaticResolver::StaticResolver(asio::any_io_executor executor, Table table)
    : executor_(std::move(executor)), table_(std::move(table)) {}

void StaticResolver::async_resolve(std::string host, Handler handler) {
    const auto entry = table_.find(host);
    if (entry == table_.end() || entry->second.empty())
        post_completion(executor_, std::move(handler), asio::error::host_not_found, {});
    else
        post_completion(executor_, std::move(handler), {}, entry->second);
}

}  // namespace herald
