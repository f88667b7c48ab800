// The usage example of the prometheus-cpp component's header (include/herald/prometheus/),
// compiled inside a function whose parameters are the names it takes for granted. Taken from the
// header at build time (see CMakeLists.txt); compiled and linked, not run.
#include <herald/herald.hpp>
#include <herald/prometheus/collector.hpp>

#include <prometheus/exposer.h>

#include <memory>

namespace snippets {

void collector_example(herald::Engine& engine, prometheus::Exposer& exposer) {
#include "include/herald/prometheus/collector.hpp.inc"
}

}  // namespace snippets
