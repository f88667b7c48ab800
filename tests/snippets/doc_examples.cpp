// The C++ examples of doc/, compiled inside functions whose parameters are the names each
// example takes for granted (the host's own job queue, link builder and alerting). Taken from
// the documents at build time (see CMakeLists.txt); compiled and linked, not run.
#include <herald/herald.hpp>
#include <herald/sqlite/database.hpp>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace snippets {

std::string my_url_for(const herald::Event& event) {
    return "https://tracker.example/" + event.id;
}
void alert(const std::string&) {}

void dispatcher_doc_example(std::shared_ptr<herald::Storage> storage,
                            std::shared_ptr<herald::SecretStore> secrets,
                            std::shared_ptr<herald::JobQueue> my_job_queue,
                            const herald::Event& event) {
    namespace asio = boost::asio;
#include "doc/delivery.md.dispatcher.inc"
}

void metrics_doc_example(boost::asio::io_context& io) {
#include "doc/operations.md.metrics.inc"
}

struct Ui {
    void show(const std::string&, const std::string&, std::string_view, const std::string&) {}
};
struct Channel {
    void post(const std::string&) {}
};

void notifications_doc_example(herald::EngineConfig& config, Ui& ui, Channel& ops_channel) {
#include "doc/operations.md.notifications.inc"
}

void show(const std::vector<herald::Firing>&) {}

void history_page_doc_example(const herald::Engine& engine, const herald::Principal& user) {
#include "doc/operations.md.history-page.inc"
}

void retention_doc_example(boost::asio::io_context& io) {
#include "doc/operations.md.retention.inc"
}

struct AutomationPage {
    void last_execution(const std::string&, herald::Timestamp, std::string_view,
                        const std::string&) {}
    void count(std::string_view, std::size_t) {}
    void warn(const std::string&) {}
};

void automation_summary_doc_example(const herald::Engine& engine, const herald::Principal& user,
                                    const std::string& automation_id, AutomationPage& page) {
#include "doc/operations.md.automation-summary.inc"
}

void delivery_config_doc_example() {
#include "doc/delivery.md.delivery-config.inc"
}

void sqlite_open_doc_example(boost::asio::io_context& io) {
#include "doc/storage.md.open.inc"
}

}  // namespace snippets
