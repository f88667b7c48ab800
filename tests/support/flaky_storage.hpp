// A herald::MemoryStorage behind switches that make claims, settles or integration reads fail
// as a broken disk would, or hold a claim's answer back as a slow one would (library
// herald_test_support, header only): what the dispatcher's storage-failure tests and the log
// tests run against.
#pragma once

#include <herald/error.hpp>
#include <herald/memory_storage.hpp>

#include <atomic>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>

namespace herald::test {

/// A memory storage behind switches that make the dispatcher's claims, settles or
/// integration reads fail as a broken disk would, counting the claims.
class FlakyStorage final : public herald::Storage {
  public:
    explicit FlakyStorage(std::shared_ptr<herald::MemoryStorage> inner)
        : inner_(std::move(inner)), integrations_(*this) {}

    herald::AutomationStore& automations() override { return inner_->automations(); }
    herald::HistoryStore& history() override { return inner_->history(); }
    herald::IntegrationStore& integrations() override { return integrations_; }
    herald::OutboxStore& outbox() override { return inner_->outbox(); }
    herald::TriggerStateStore& trigger_state() override { return inner_->trigger_state(); }
    void record_publish(const herald::PublishRecord& record) override {
        inner_->record_publish(record);
    }
    herald::PruneResult prune(const herald::PruneRequest& request) override {
        ++prunes;
        if (fail_prunes)
            std::rethrow_exception(broken());
        return inner_->prune(request);
    }
    void claim_async(herald::Timestamp now, std::size_t limit, herald::Timestamp lease_until,
                     std::function<void(std::exception_ptr, herald::ClaimResult)> done) override {
        ++claims;
        if (fail_claims)
            return done(broken(), {});
        if (hold_claims) {
            std::lock_guard lock(held_mutex_);
            held_claim_ = std::move(done);
            return;
        }
        inner_->claim_async(now, limit, lease_until, std::move(done));
    }
    void settle_async(const herald::SettleBatch& batch,
                      std::function<void(std::exception_ptr, herald::SettleResult)> done) override {
        settled += static_cast<int>(batch.outbox.size());
        if (fail_settles)
            return done(broken(), {});
        inner_->settle_async(batch, std::move(done));
    }

    std::atomic<int> claims = 0;
    std::atomic<int> settled = 0;  ///< outbox updates written (or tried)
    std::atomic<bool> fail_claims = false;
    std::atomic<bool> fail_settles = false;
    std::atomic<int> prunes = 0;  ///< pruning passes started
    std::atomic<bool> fail_prunes = false;
    std::atomic<bool> fail_integration_reads = false;
    /// Claims are not answered until `answer_held_claim` (one at a time).
    std::atomic<bool> hold_claims = false;

    bool claim_held() {
        std::lock_guard lock(held_mutex_);
        return static_cast<bool>(held_claim_);
    }
    /// Answers the held claim, from the calling thread, with nothing claimed.
    void answer_held_claim() {
        std::function<void(std::exception_ptr, herald::ClaimResult)> done;
        {
            std::lock_guard lock(held_mutex_);
            done = std::move(held_claim_);
            held_claim_ = nullptr;
        }
        done(nullptr, {});
    }

  private:
    static std::exception_ptr broken() {
        return std::make_exception_ptr(
            herald::Error(herald::errc::storage_failure, "", "disk I/O error (test)"));
    }
    class Integrations final : public herald::IntegrationStore {
      public:
        explicit Integrations(FlakyStorage& owner) : owner_(owner) {}
        void insert(const herald::Integration& i) override { store().insert(i); }
        void update(const herald::Integration& i) override { store().update(i); }
        bool erase(std::string_view entity, std::string_view name) override {
            return store().erase(entity, name);
        }
        std::optional<herald::Integration> find(std::string_view entity,
                                                std::string_view name) const override {
            if (owner_.fail_integration_reads)
                std::rethrow_exception(broken());
            return store().find(entity, name);
        }
        std::vector<herald::Integration> list(std::string_view entity) const override {
            return store().list(entity);
        }
        std::vector<herald::FailingStreak> update_streaks(
            std::span<const herald::StreakUpdate> updates) override {
            return store().update_streaks(updates);
        }
        std::optional<herald::Timestamp> failing_since(std::string_view entity,
                                                       std::string_view name) const override {
            return store().failing_since(entity, name);
        }

      private:
        herald::IntegrationStore& store() const { return owner_.inner_->integrations(); }
        FlakyStorage& owner_;
    };
    std::shared_ptr<herald::MemoryStorage> inner_;
    std::mutex held_mutex_;
    std::function<void(std::exception_ptr, herald::ClaimResult)> held_claim_;
    Integrations integrations_;
};

}  // namespace herald::test
