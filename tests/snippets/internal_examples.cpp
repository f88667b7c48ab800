// The usage examples of herald's private headers (src/) and of the one public example that
// shows a private type (delivery_error.hpp, with the HTTP client's response), compiled inside
// functions whose parameters are the names each example takes for granted. Taken from the
// headers at build time (see CMakeLists.txt); compiled and linked, not run.
#include "cli/publish_pipeline.hpp"
#include "delivery/address_policy.hpp"
#include "delivery/http_client.hpp"
#include "delivery/http_date.hpp"
#include "delivery/request_target.hpp"
#include "delivery/response_reader.hpp"
#include "delivery/signature.hpp"
#include "evaluate/condition_machine.hpp"
#include "evaluate/metric_conditions.hpp"
#include "evaluate/run_population.hpp"

#include <herald/delivery_error.hpp>
#include <herald/resolver.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace snippets {

using namespace herald;
using namespace herald::detail;

void publish_pipeline_example(Engine& engine, Event event,
                              void (*print)(std::span<const cli::LineOutcome>)) {
    using cli::LineOutcome;
    using cli::PublishPipeline;
#include "src/cli/publish_pipeline.hpp.inc"
}

void delivery_error_example(boost::system::error_code ec, const HttpResponse& response,
                            void (*log)(std::string_view)) {
#include "include/herald/delivery_error.hpp.inc"
}

void address_policy_example(const DeliveryConfig& config) {
    namespace ip = boost::asio::ip;
#include "src/delivery/address_policy.hpp.inc"
}

void http_date_example(Timestamp now) {
#include "src/delivery/http_date.hpp.inc"
}

/// The http_client.hpp example's logger: a failure with its diagnostic, or a status.
struct Log {
    void operator()(std::string_view, std::string_view) const {}
    void operator()(unsigned) const {}
};

boost::asio::awaitable<void> http_client_example(boost::asio::io_context& io,
                                                 const DeliveryConfig& config, std::string payload,
                                                 Log log) {
    namespace asio = boost::asio;
#include "src/delivery/http_client.hpp.inc"
}

void request_target_example(const AddressPolicy& policy) {
    using boost::urls::url_view;
#include "src/delivery/request_target.hpp.inc"
}

void response_reader_example(std::optional<std::string> (*receive)(), void (*log)(std::string_view),
                             void (*use)(HttpResponse, bool)) {
#include "src/delivery/response_reader.hpp.inc"
}

void signature_example(std::string_view body, std::string_view secret, std::string_view delivery_id,
                       std::int64_t unix_seconds) {
#include "src/delivery/signature.hpp.inc"
}

void metric_conditions_example(const trigger::MetricThreshold& spec, std::span<const double> values,
                               void (*fire)(const MetricObservation&)) {
#include "src/evaluate/metric_conditions.hpp.inc"
}

void condition_machine_example(const Clock& clock, const Hysteresis& hysteresis, bool holds,
                               bool crossed_recovery, void (*fire)()) {
#include "src/evaluate/condition_machine.hpp.inc"
}

void run_population_example(double& z) {
#include "src/evaluate/run_population.hpp.inc"
}

}  // namespace snippets
