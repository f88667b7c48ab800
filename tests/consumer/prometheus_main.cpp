// Exits 0 when herald::prometheus, consumed as a package component, links and runs: an engine's
// figures reach a prometheus-cpp registry through the Collector and serialize with its own
// TextSerializer.
#include <herald/engine.hpp>
#include <herald/prometheus/collector.hpp>

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <memory>
#include <string>

int main() {
    herald::Engine engine;
    auto collector =
        std::make_shared<herald::prometheus::Collector>([&engine] { return engine.metrics(); });
    const std::string text = prometheus::TextSerializer().Serialize(collector->Collect());
    return text.find("herald_firings_total 0") != std::string::npos ? 0 : 1;
}
