#include <herald/delivery_error.hpp>

#include <string>

namespace herald {
namespace {

class DeliveryCategory final : public boost::system::error_category {
  public:
    const char* name() const noexcept override { return "herald.delivery"; }

    std::string message(int value) const override {
        switch (static_cast<delivery_errc>(value)) {
            case delivery_errc::bad_url:
                return "not an http or https URL with a host";
            case delivery_errc::ssrf_refused:
                return "destination refused by the SSRF policy";
            case delivery_errc::resolve_failed:
                return "host name did not resolve";
            case delivery_errc::connect_failed:
                return "connection failed";
            case delivery_errc::connect_timeout:
                return "connect timeout";
            case delivery_errc::timeout:
                return "request timeout";
            case delivery_errc::connection_reset:
                return "connection closed before a complete response";
            case delivery_errc::tls_failed:
                return "TLS handshake or certificate verification failed";
            case delivery_errc::protocol_error:
                return "malformed HTTP response";
            case delivery_errc::bad_request:
                return "request header cannot be sent";
        }
        return "unknown delivery error";
    }
};

}  // namespace

const boost::system::error_category& delivery_category() noexcept {
    static const DeliveryCategory category;
    return category;
}

}  // namespace herald
