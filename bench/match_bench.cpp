// Matching throughput: artifact events against 100, 10,000 and 100,000 automations spread over
// 1,000 projects.
//
// Two workloads:
// - "one_candidate": every automation watches its own collection (an alias pattern, exact or
//   regex), and every event adds an alias to a collection that one automation watches, half of
//   the time an alias it matches. The work per event is the same at every size, so the figures
//   show what the index itself costs as the automation count grows.
// - "mixed": the six artifact trigger kinds, a fifth project-scoped and the rest on one of 50
//   collections per project. More automations per project means more candidates and more
//   matches per event, so this cost grows with the count by design (see matches_per_event).
//
// BM_Match* measure what `Engine::publish` does under its read lock — the index lookups and the
// trigger filters — and count the matches so nothing is optimised away. BM_Publish* measure the
// whole public `Engine::publish` (clock, matching, building and recording the firings).
#include "match/automation_index.hpp"
#include "match/match.hpp"

#include <herald/engine.hpp>

#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

namespace {

using namespace herald;

constexpr int project_count = 1000;
constexpr int collections_per_project = 50;
constexpr std::size_t event_count = 4096;

std::string project_name(int p) {
    return "project-" + std::to_string(p);
}
std::string collection_name(int c) {
    return "collection-" + std::to_string(c);
}

/// Automations of the six artifact trigger kinds, a fifth of them project-scoped and the rest
/// on one collection; alias and tag patterns alternate between exact names and regexes.
std::vector<Automation> make_automations(std::size_t n) {
    std::mt19937 rng(42);
    std::vector<Automation> out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        const int p = static_cast<int>(rng() % project_count);
        const int c = static_cast<int>(rng() % collections_per_project);
        const bool project_scoped = rng() % 5 == 0;
        Automation a{.name = "rule-" + std::to_string(i),
                     .scope = project_scoped ? Scope::for_project("acme", project_name(p))
                                             : Scope::for_collection("acme", project_name(p),
                                                                     collection_name(c))};
        const bool regex = i % 2 == 0;
        switch (i % 6) {
            case 0:
                a.trigger = trigger::CreateArtifact{};
                break;
            case 1:
                a.trigger =
                    trigger::AddArtifactAlias{.alias = Pattern{regex ? "^prod.*$" : "production"}};
                break;
            case 2:
                a.trigger = trigger::AddArtifactTag{.tag = Pattern{regex ? "^gold-" : "gold"}};
                break;
            case 3:
                a.trigger = trigger::RemoveArtifactTag{};
                break;
            case 4:
                a.trigger =
                    trigger::AddArtifactAlias{.alias = Pattern{regex ? "^stag.*$" : "staging"}};
                break;
            default:
                a.trigger = trigger::CreateArtifact{.collection = Pattern{"^collection-1"}};
                break;
        }
        out.push_back(std::move(a));
    }
    return out;
}

/// Automation i watches collection i of project i % 1000 for an alias.
std::vector<Automation> make_one_candidate_automations(std::size_t n) {
    std::vector<Automation> out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        const bool regex = i % 2 == 0;
        out.push_back(Automation{.name = "rule-" + std::to_string(i),
                                 .scope = Scope::for_collection(
                                     "acme", project_name(static_cast<int>(i % project_count)),
                                     "watched-" + std::to_string(i)),
                                 .trigger = trigger::AddArtifactAlias{
                                     .alias = Pattern{regex ? "^prod.*$" : "production"}}});
    }
    return out;
}

/// Alias-added events, each on the collection of a random automation of the n above.
std::vector<Event> make_one_candidate_events(std::size_t n) {
    std::mt19937 rng(7);
    std::vector<Event> out;
    for (std::size_t i = 0; i < event_count; ++i) {
        const std::size_t target = rng() % n;
        out.push_back(
            Event{.id = "e" + std::to_string(i),
                  .author = "grace",
                  .entity = "acme",
                  .project = project_name(static_cast<int>(target % project_count)),
                  .body = AliasAdded{
                      .version = {.collection = "watched-" + std::to_string(target), .index = 3},
                      .alias = rng() % 2 ? "production" : "staging"}});
    }
    return out;
}

/// Alias-added events on random collections of random projects.
std::vector<Event> make_events() {
    std::mt19937 rng(7);
    std::vector<Event> out;
    for (std::size_t i = 0; i < event_count; ++i) {
        const int p = static_cast<int>(rng() % project_count);
        const int c = static_cast<int>(rng() % collections_per_project);
        out.push_back(
            Event{.id = "e" + std::to_string(i),
                  .author = "grace",
                  .entity = "acme",
                  .project = project_name(p),
                  .body = AliasAdded{.version = {.collection = collection_name(c), .index = 3},
                                     .alias = rng() % 2 ? "production" : "staging"}});
    }
    return out;
}

void run_match(benchmark::State& state, std::vector<Automation> automations,
               const std::vector<Event>& events) {
    detail::AutomationIndex index;
    for (Automation& a : automations) {
        a.id = a.name;
        index.insert(std::make_shared<const Automation>(std::move(a)));
    }
    std::size_t i = 0, matches = 0;
    for (auto _ : state) {
        const Event& e = events[i++ % events.size()];
        index.for_each_candidate(e, [&](const auto& automation) {
            matches += detail::filters_match(automation->trigger, e);
        });
    }
    benchmark::DoNotOptimize(matches);
    state.SetItemsProcessed(state.iterations());
    state.counters["matches_per_event"] =
        static_cast<double>(matches) / static_cast<double>(state.iterations());
}

void run_publish(benchmark::State& state, std::vector<Automation> automations,
                 const std::vector<Event>& events) {
    Engine engine;
    const Principal admin{.user = "admin", .roles = {Role::entity_admin("acme")}};
    engine.automations().create_all(admin, std::move(automations));
    std::size_t i = 0, fired = 0;
    for (auto _ : state)
        fired += engine.publish(events[i++ % events.size()]).firings.size();
    state.SetItemsProcessed(state.iterations());
    state.counters["firings_per_event"] =
        static_cast<double>(fired) / static_cast<double>(state.iterations());
}

std::size_t count_of(const benchmark::State& state) {
    return static_cast<std::size_t>(state.range(0));
}

void BM_MatchOneCandidate(benchmark::State& state) {
    run_match(state, make_one_candidate_automations(count_of(state)),
              make_one_candidate_events(count_of(state)));
}
void BM_MatchMixed(benchmark::State& state) {
    run_match(state, make_automations(count_of(state)), make_events());
}
void BM_PublishOneCandidate(benchmark::State& state) {
    run_publish(state, make_one_candidate_automations(count_of(state)),
                make_one_candidate_events(count_of(state)));
}
void BM_PublishMixed(benchmark::State& state) {
    run_publish(state, make_automations(count_of(state)), make_events());
}
BENCHMARK(BM_MatchOneCandidate)->Arg(100)->Arg(10'000)->Arg(100'000);
BENCHMARK(BM_MatchMixed)->Arg(100)->Arg(10'000)->Arg(100'000);
BENCHMARK(BM_PublishOneCandidate)->Arg(100)->Arg(10'000)->Arg(100'000);
BENCHMARK(BM_PublishMixed)->Arg(100)->Arg(10'000)->Arg(100'000);

}  // namespace

BENCHMARK_MAIN();
