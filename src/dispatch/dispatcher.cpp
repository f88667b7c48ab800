#include "dispatch/dispatcher_core.hpp"

#include <herald/dispatcher.hpp>

namespace herald {

void Dispatcher::wake() {
    core_->wake();
}

void Dispatcher::replay(const Principal& who, std::string_view delivery_id) {
    core_->replay(who, delivery_id);
}

void Dispatcher::stop(std::chrono::milliseconds deadline, StopHandler handler) {
    core_->stop(deadline, std::move(handler));
}

void Dispatcher::test_webhook(const Principal& who, WebhookIntegration integration,
                              std::string payload, TestHandler handler) {
    core_->test_webhook(who, std::move(integration), std::move(payload), std::move(handler));
}

void Dispatcher::test_slack(const Principal& who, SlackIntegration integration, std::string title,
                            std::string message, TestHandler handler) {
    core_->test_slack(who, std::move(integration), std::move(title), std::move(message),
                      std::move(handler));
}

}  // namespace herald
