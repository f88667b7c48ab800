// Engine::dry_run: publish's matching and evaluation against copies, reported instead of
// recorded.
#include "dispatch/outgoing_request.hpp"
#include "engine/engine_state.hpp"
#include "match/match.hpp"
#include "model/validate.hpp"
#include "template/action_templates.hpp"
#include "util/ids.hpp"
#include "util/lazy_now.hpp"

#include <herald/engine.hpp>
#include <herald/error.hpp>

#include <shared_mutex>
#include <string>
#include <utility>

namespace herald {

std::string_view to_string(DryRunOutcome outcome) noexcept {
    switch (outcome) {
        case DryRunOutcome::fires:
            return "FIRES";
        case DryRunOutcome::disabled:
            return "DISABLED";
        case DryRunOutcome::not_a_registry:
            return "NOT_A_REGISTRY";
        case DryRunOutcome::filtered:
            return "FILTERED";
        case DryRunOutcome::no_value:
            return "NO_VALUE";
        case DryRunOutcome::window_not_full:
            return "WINDOW_NOT_FULL";
        case DryRunOutcome::not_met:
            return "NOT_MET";
        case DryRunOutcome::pending:
            return "PENDING";
        case DryRunOutcome::recovering:
            return "RECOVERING";
        case DryRunOutcome::cooldown:
            return "COOLDOWN";
    }
    return "UNKNOWN";
}

namespace {

/// What the action of `automation` would send for `firing`, secrets masked, as the dispatcher
/// records it; or why the delivery would fail instead.
void render_payload(const detail::EngineState& state, const Automation& automation,
                    const Firing& firing, DryRunVerdict& verdict) {
    const Action& action = automation.action;
    const TriggerKind trigger = automation.trigger.kind();
    try {
        if (const auto* job = action.get_if<action::LaunchJob>()) {
            if (!job->override.empty())
                verdict.payload =
                    Template::compile(job->override, {.trigger = trigger}).render_masked(firing);
            return;
        }
        const auto* webhook = action.get_if<action::Webhook>();
        const auto* slack = action.get_if<action::SlackNotification>();
        if (!webhook && !slack)
            return;
        const std::string& name = webhook ? webhook->integration : slack->integration;
        const auto integration = state.storage->integrations().find(firing.event.entity, name);
        if (!integration) {
            verdict.payload_error = "integration '" + name + "' does not exist";
            return;
        }
        const auto* hook = integration->get_if<WebhookIntegration>();
        const auto* chat = integration->get_if<SlackIntegration>();
        if (webhook ? !hook : !chat) {
            verdict.payload_error = "integration '" + name + "' is not a " +
                                    std::string(to_string(action.kind())) + " integration";
            return;
        }
        if (!integration->enabled()) {
            verdict.payload_error = "integration '" + name + "' is disabled";
            return;
        }
        if (webhook) {
            verdict.payload =
                Template::compile(detail::payload_source(*webhook, trigger),
                                  {.trigger = trigger, .access_token = !hook->access_token.empty()})
                    .render_masked(firing);
            return;
        }
        const TemplateRules text{.trigger = trigger, .format = TemplateFormat::text};
        const std::string link = state.link_builder ? state.link_builder(firing) : "";
        const std::string channel = chat->webhook_url_secret.empty() ? chat->channel : "";
        verdict.payload = detail::slack_message(
            *slack, firing, Template::compile(slack->title, text).render_masked(firing),
            Template::compile(slack->message, text).render_masked(firing), link, channel);
    } catch (const Error& e) {
        verdict.payload.clear();
        verdict.payload_error = e.reason();
    }
}

/// One event of a dry run; `runs` holds the copies of run state the sequence evaluates on.
DryRunEvent dry_run_event(detail::EngineState& state, Event& event,
                          detail::TriggerEvaluator::DryRunState& runs) {
    if (event.id.empty())
        event.id = detail::new_uuid();
    detail::LazyNow time(*state.clock);
    if (event.time == Timestamp{})
        event.time = time.get();
    DryRunEvent result{.event_id = event.id};
    const bool link =
        event.kind() == EventKind::artifact_linked || event.kind() == EventKind::artifact_unlinked;
    const bool into_registry = !link || detail::may_link_into(state, event.entity, event.project);

    struct Fired {
        std::size_t verdict;
        std::shared_ptr<const Automation> automation;
    };
    std::vector<Fired> fired;
    std::vector<detail::TriggerEvaluator::Candidate> candidates;
    std::vector<std::size_t> candidate_verdicts;
    std::vector<detail::RunExplanation> explanations;
    {
        std::shared_lock lock(state.mutex);
        for (const auto& [key, id] : state.by_scope_name) {
            const std::shared_ptr<const Automation>& automation = state.by_id.at(id);
            if (listens_to(automation->trigger.kind()) != event.kind() ||
                !detail::AutomationIndex::contains(automation->scope, event))
                continue;
            DryRunVerdict& verdict = result.automations.emplace_back(DryRunVerdict{
                .automation_id = automation->id, .automation_name = automation->name});
            if (!automation->enabled) {
                verdict.outcome = DryRunOutcome::disabled;
                verdict.reason = "the automation is disabled";
            } else if (!into_registry) {
                verdict.outcome = DryRunOutcome::not_a_registry;
                verdict.reason = "project '" + event.project +
                                 "' is not a registry: links fire only into registries";
            } else if (auto mismatch = detail::filter_mismatch(automation->trigger, event)) {
                verdict.outcome = mismatch->outcome;
                verdict.reason = std::move(mismatch->reason);
            } else if (event.run()) {
                candidates.push_back(&automation);
                candidate_verdicts.push_back(result.automations.size() - 1);
            } else {
                fired.push_back({result.automations.size() - 1, automation});
            }
        }
        if (!candidates.empty())
            state.evaluator->dry_run(event, candidates, time, runs, explanations);
    }
    std::vector<std::optional<MetricObservation>> metrics(result.automations.size());
    for (std::size_t i = 0; i < explanations.size(); ++i) {
        detail::RunExplanation& e = explanations[i];
        const std::size_t slot = candidate_verdicts[i];
        if (e.outcome == DryRunOutcome::fires) {
            fired.push_back({slot, *e.automation});
            metrics[slot] = std::move(e.metric);
            continue;
        }
        DryRunVerdict& verdict = result.automations[slot];
        verdict.outcome = e.outcome;
        verdict.reason = std::move(e.reason);
        verdict.cooldown_until = e.cooldown_until;
        verdict.pending_evaluations = e.pending_evaluations;
        verdict.pending_until = e.pending_until;
    }
    for (const auto& [slot, automation] : fired) {
        DryRunVerdict& verdict = result.automations[slot];
        const Firing firing =
            detail::make_firing(*automation, std::move(metrics[slot]), event, time.get());
        verdict.outcome = DryRunOutcome::fires;
        verdict.reason = firing.reason;
        verdict.metric = firing.metric;
        render_payload(state, *automation, firing, verdict);
    }
    return result;
}

}  // namespace

DryRunEvent Engine::dry_run(Event event) const {
    detail::validate(event);
    detail::TriggerEvaluator::DryRunState runs;
    return dry_run_event(*state_, event, runs);
}

std::vector<DryRunEvent> Engine::dry_run(std::vector<Event> events) const {
    for (std::size_t i = 0; i < events.size(); ++i) {
        try {
            detail::validate(events[i]);
        } catch (const Error& e) {
            const std::string at = "events[" + std::to_string(i) + "]";
            throw Error(e.code(), e.field().empty() ? at : at + "." + e.field(), e.reason());
        }
    }
    detail::TriggerEvaluator::DryRunState runs;
    std::vector<DryRunEvent> results;
    results.reserve(events.size());
    for (Event& event : events)
        results.push_back(dry_run_event(*state_, event, runs));
    return results;
}

}  // namespace herald
