// Rendering payload templates: the seeds' GitHub repository_dispatch payload for a
// LINK_ARTIFACT firing, compiled once and rendered into a reused buffer, as the dispatcher does.
#include "support/seed_payloads.hpp"

#include <herald/template.hpp>

#include <benchmark/benchmark.h>

#include <string>

namespace {

herald::Firing link_firing() {
    herald::ArtifactVersion version{.collection = "mnist-classifier",
                                    .collection_type = "model",
                                    .index = 12,
                                    .id = "QXJ0aWZhY3Q6NTE3ODg5ODg7",
                                    .uri = "wandb-artifact://_id/QXJ0aWZhY3Q6NTE3ODg5ODg7"};
    return {.id = "3f0c6a8e-delivery",
            .automation_name = "deploy-production",
            .event = {.id = "evt-42",
                      .author = "grace.hopper",
                      .entity = "acme-research",
                      .project = "model-registry",
                      .body = herald::ArtifactLinked{.version = std::move(version),
                                                     .source = {.entity = "acme-research",
                                                                .project = "mnist",
                                                                .collection = "mnist-cnn",
                                                                .index = 40}}}};
}

herald::Template compiled_payload() {
    return herald::Template::compile(herald::test::github_repository_dispatch,
                                     {.trigger = herald::TriggerKind::link_artifact});
}

void BM_render_repository_dispatch(benchmark::State& state) {
    const herald::Template payload = compiled_payload();
    const herald::Firing firing = link_firing();
    std::string out;
    for (auto _ : state) {
        out.clear();
        payload.render_masked(firing, out);
        benchmark::DoNotOptimize(out.data());
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(out.size()));
}
BENCHMARK(BM_render_repository_dispatch);

/// The same with a fresh std::string per render (what `render_masked(firing)` returns).
void BM_render_repository_dispatch_new_string(benchmark::State& state) {
    const herald::Template payload = compiled_payload();
    const herald::Firing firing = link_firing();
    for (auto _ : state)
        benchmark::DoNotOptimize(payload.render_masked(firing));
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_render_repository_dispatch_new_string);

void BM_compile_repository_dispatch(benchmark::State& state) {
    for (auto _ : state)
        benchmark::DoNotOptimize(compiled_payload());
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_compile_repository_dispatch);

}  // namespace

BENCHMARK_MAIN();
