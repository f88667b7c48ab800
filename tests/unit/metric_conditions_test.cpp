// The run metric conditions (src/evaluate/metric_conditions.hpp) and their windows, without
// the engine: operators, aggregates, directions, defaults, edge cases, condition texts, a
// property test against a naive recomputation from the full history, and a drift test.
#include "evaluate/metric_conditions.hpp"
#include "support/naive_metric_conditions.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

using namespace herald;
using namespace herald::detail;
using namespace herald::test;

namespace {

/// Pushes every value; returns what the last push answered.
template <class Condition>
bool push_all(Condition& c, std::initializer_list<double> values) {
    bool holds = false;
    for (double v : values)
        holds = c.push(v);
    return holds;
}

}  // namespace

// --- windows ------------------------------------------------------------------------------------

TEST_CASE("ValueRing keeps the most recent values, oldest first", "[metrics]") {
    ValueRing ring(3);
    CHECK(ring.empty());
    CHECK_FALSE(ring.push(1));
    CHECK_FALSE(ring.push(2));
    CHECK(ring.to_vector() == std::vector<double>{1, 2});
    CHECK(ring.push(3));  // wrapped
    CHECK(ring.full());
    ring.push(4);
    CHECK(ring.to_vector() == std::vector<double>{2, 3, 4});
    CHECK(ring.back(0) == 4);
    CHECK(ring.front() == 2);
    CHECK(sum_of(ring, 1, 2) == 5);  // the two before the latest
}

TEST_CASE("MonotonicQueue tracks the window's min and max", "[metrics]") {
    MonotonicQueue min(MonotonicQueue::Kind::min, 3);
    MonotonicQueue max(MonotonicQueue::Kind::max, 3);
    const std::vector<double> values{5, 1, 4, 4, 7, 2, 9, 9, 9, 3};
    for (std::size_t i = 0; i < values.size(); ++i) {
        min.push(values[i]);
        max.push(values[i]);
        const auto first = values.begin() + static_cast<std::ptrdiff_t>(i < 2 ? 0 : i - 2);
        const auto end = values.begin() + static_cast<std::ptrdiff_t>(i + 1);
        CHECK(min.value() == *std::min_element(first, end));
        CHECK(max.value() == *std::max_element(first, end));
    }
}

// --- threshold ----------------------------------------------------------------------------------

TEST_CASE("threshold defaults: average over 5, greater than", "[metrics]") {
    const trigger::MetricThreshold s{.metric = "loss", .threshold = 2};
    ThresholdCondition c{s};
    CHECK(push_all(c, {10}));                // avg over the 1 value present = 10
    CHECK_FALSE(push_all(c, {0, 0, 0, 0}));  // avg(10,0,0,0,0) = 2, not > 2
    CHECK_FALSE(c.push(0));                  // 10 left the window
    CHECK(push_all(c, {11}));                // (0*4 + 11) / 5 = 2.2
}

TEST_CASE("threshold: every comparison operator", "[metrics]") {
    const auto holds = [](Comparison op, double value) {
        const trigger::MetricThreshold s{
            .metric = "m", .window = 1, .comparison = op, .threshold = 1};
        ThresholdCondition c{s};
        return c.push(value);
    };
    using enum Comparison;
    CHECK(holds(greater, 2));
    CHECK_FALSE(holds(greater, 1));
    CHECK(holds(greater_equal, 1));
    CHECK_FALSE(holds(greater_equal, 0.5));
    CHECK(holds(less, 0.5));
    CHECK_FALSE(holds(less, 1));
    CHECK(holds(less_equal, 1));
    CHECK_FALSE(holds(less_equal, 1.5));
    CHECK(holds(equal, 1));
    CHECK_FALSE(holds(equal, 1.0000001));
    CHECK(holds(not_equal, 2));
    CHECK_FALSE(holds(not_equal, 1));
}

TEST_CASE("threshold: min and max aggregates over the window", "[metrics]") {
    const trigger::MetricThreshold min_spec{.metric = "m",
                                            .window = 3,
                                            .aggregate = Aggregate::min,
                                            .comparison = Comparison::greater,
                                            .threshold = 1};
    const trigger::MetricThreshold max_spec{.metric = "m",
                                            .window = 3,
                                            .aggregate = Aggregate::max,
                                            .comparison = Comparison::less,
                                            .threshold = 5};
    ThresholdCondition min{min_spec};
    ThresholdCondition max{max_spec};
    CHECK(push_all(min, {3, 2, 0.5}) == false);  // min 0.5
    CHECK(push_all(min, {4, 5}) == false);       // window 0.5, 4, 5
    CHECK(min.push(6));                          // window 4, 5, 6: min 4 > 1
    CHECK(push_all(max, {9, 1, 1}) == false);    // max 9
    CHECK(max.push(1));                          // window 1, 1, 1
}

TEST_CASE("threshold: fewer values than the window use those present", "[metrics]") {
    const trigger::MetricThreshold s{
        .metric = "loss", .window = 60, .comparison = Comparison::less, .threshold = 0.25};
    ThresholdCondition c{s};
    CHECK_FALSE(c.push(0.5));
    CHECK_FALSE(c.push(0));  // avg 0.25 is not < 0.25
    CHECK(c.push(0));
    const MetricObservation o = c.observe();
    CHECK(o.metric_values == std::vector<double>{0.5, 0, 0});
    CHECK(o.metric_condition == "avg(loss) over last 3 = 0.166667 < 0.25");
}

TEST_CASE("threshold: the observation carries the window and a readable condition", "[metrics]") {
    const trigger::MetricThreshold s{
        .metric = "loss", .comparison = Comparison::less, .threshold = 0.25};
    ThresholdCondition c{s};
    REQUIRE(push_all(c, {0.3, 0.2, 0.2, 0.2, 0.15}));
    const MetricObservation o = c.observe();
    CHECK(o.metric_name == "loss");
    CHECK(o.metric_value == 0.15);
    CHECK(o.metric_values == std::vector<double>{0.3, 0.2, 0.2, 0.2, 0.15});
    CHECK(o.metric_condition == "avg(loss) over last 5 = 0.21 < 0.25");

    const trigger::MetricThreshold m{.metric = "acc",
                                     .window = 2,
                                     .aggregate = Aggregate::max,
                                     .comparison = Comparison::greater_equal,
                                     .threshold = 0.9};
    ThresholdCondition mc{m};
    REQUIRE(push_all(mc, {0.95, 0.5}));
    CHECK(mc.observe().metric_condition == "max(acc) over last 2 = 0.95 >= 0.9");
}

// --- change -------------------------------------------------------------------------------------

TEST_CASE("change defaults: current 10 against prior 50, relative, either direction", "[metrics]") {
    const trigger::MetricChange s{.metric = "loss", .amount = 0.5};
    CHECK(s.current_window == 10);
    CHECK(s.prior_window == 50);
    ChangeCondition c{s};
    for (int i = 0; i < 60; ++i)
        CHECK_FALSE(c.push(1));
    // The next ten values of 1.6 replace the current window: avg 1.6 vs 1 (+60 %).
    bool fired = false;
    for (int i = 0; i < 10; ++i)
        fired = c.push(1.6);
    CHECK(fired);
}

TEST_CASE("change needs a full current window and a non-empty prior window", "[metrics]") {
    const trigger::MetricChange s{.metric = "m",
                                  .current_window = 3,
                                  .prior_window = 2,
                                  .mode = ChangeMode::absolute,
                                  .amount = 1};
    ChangeCondition c{s};
    CHECK_FALSE(push_all(c, {0, 10, 10}));  // current full, no prior yet
    CHECK(c.push(10));                      // prior {0}, current {10,10,10}
    const MetricObservation o = c.observe();
    CHECK(o.metric_values == std::vector<double>{0, 10, 10, 10});
    CHECK(o.metric_condition ==
          "avg(m) over last 3 = 10, over the 1 before = 0: increased by 10 >= 1");
}

TEST_CASE("change: prior and current windows are disjoint and slide", "[metrics]") {
    const trigger::MetricChange s{.metric = "m",
                                  .current_window = 2,
                                  .prior_window = 2,
                                  .mode = ChangeMode::absolute,
                                  .direction = ChangeDirection::increase,
                                  .amount = 5};
    ChangeCondition c{s};
    // prior {0, 0}, current {4, 4}: +4
    CHECK_FALSE(push_all(c, {100, 0, 0, 4, 4}));  // 100 left the prior window
    CHECK(c.push(10));                            // prior {0, 4}=2, current {4, 10}=7: +5
    CHECK(c.observe().metric_values == std::vector<double>{0, 4, 4, 10});
}

TEST_CASE("change: directions and modes", "[metrics]") {
    const auto fires = [](ChangeMode mode, ChangeDirection direction, double amount, double prior,
                          double current) {
        const trigger::MetricChange s{.metric = "m",
                                      .current_window = 1,
                                      .prior_window = 1,
                                      .mode = mode,
                                      .direction = direction,
                                      .amount = amount};
        ChangeCondition c{s};
        c.push(prior);
        return c.push(current);
    };
    using enum ChangeDirection;
    using enum ChangeMode;
    CHECK(fires(relative, increase, 0.25, 4, 5));  // +25 %: at least 25 %
    CHECK_FALSE(fires(relative, increase, 0.25, 4, 4.9));
    CHECK_FALSE(fires(relative, increase, 0.25, 5, 4));
    CHECK(fires(relative, decrease, 0.2, 5, 4));  // -20 %
    CHECK_FALSE(fires(relative, decrease, 0.2, 4, 5));
    CHECK(fires(relative, either, 0.2, 5, 4));
    CHECK(fires(relative, either, 0.2, 4, 5));
    CHECK_FALSE(fires(relative, either, 0.2, 4, 4.5));
    // Relative to |prior|: from -4 to -2 is an increase of 50 %.
    CHECK(fires(relative, increase, 0.5, -4, -2));
    CHECK(fires(absolute, increase, 2, -4, -2));
    CHECK_FALSE(fires(absolute, decrease, 2, -4, -2));
    CHECK(fires(absolute, decrease, 2, -2, -4));
    CHECK(fires(absolute, either, 3, 10, 7));
}

TEST_CASE("change: a relative change from a prior average of 0 never fires", "[metrics]") {
    const trigger::MetricChange s{
        .metric = "m", .current_window = 1, .prior_window = 2, .amount = 0.1};
    ChangeCondition c{s};
    CHECK_FALSE(push_all(c, {-1, 1, 5}));  // prior avg(-1, 1) = 0
    CHECK(c.push(20));                     // prior avg(1, 5) = 3
    CHECK(c.observe().metric_condition ==
          "avg(m) over last 1 = 20, over the 2 before = 3: increased by 566.667% >= 10%");
}

// --- z-score ------------------------------------------------------------------------------------

TEST_CASE("z-score defaults: window 30, either direction, threshold 3", "[metrics]") {
    const trigger::MetricZScore s{.metric = "gpu"};
    CHECK(s.window == 30);
    CHECK(s.direction == ZScoreDirection::either);
    CHECK(s.threshold == 3.0);
    ZScoreCondition c{s};
    for (int i = 0; i < 40; ++i)
        CHECK_FALSE(c.push(i % 2 == 0 ? 9 : 11));  // mean 10, sample stddev ~1.017
    CHECK_FALSE(c.push(13));                       // z ~ 2.95
    ZScoreCondition d{s};
    for (int i = 0; i < 40; ++i)
        d.push(i % 2 == 0 ? 9 : 11);
    CHECK(d.push(4));  // z ~ -5.9: below counts for "either"
}

TEST_CASE("z-score compares the latest value with the window before it", "[metrics]") {
    const trigger::MetricZScore s{
        .metric = "m", .window = 3, .direction = ZScoreDirection::above, .threshold = 2};
    ZScoreCondition c{s};
    CHECK_FALSE(c.push(1));
    CHECK_FALSE(c.push(2));  // one prior value: undefined
    CHECK(c.push(3));        // prior {1,2}: mean 1.5, sd 0.707, z 2.12
    // prior {1,2,3}: mean 2, sd 1; 4.5 gives z = 2.5
    CHECK(c.push(4.5));
    const MetricObservation o = c.observe();
    CHECK(o.metric_value == 4.5);
    CHECK(o.metric_values == std::vector<double>{1, 2, 3, 4.5});
    CHECK(o.metric_condition == "z(m) = 2.5 >= 2 (latest 4.5, mean 2, stddev 1 over the 3 before)");
    // Full window: the value that left the window is still shown as compared against.
    CHECK(c.push(100));
    CHECK(c.observe().metric_values == std::vector<double>{2, 3, 4.5, 100});
}

TEST_CASE("z-score: at least 2 prior values, directions", "[metrics]") {
    const auto z_fires = [](ZScoreDirection direction, double latest) {
        const trigger::MetricZScore s{
            .metric = "m", .window = 4, .direction = direction, .threshold = 3};
        ZScoreCondition c{s};
        push_all(c, {9, 11, 9, 11});  // mean 10, sample sd 1.1547
        return c.push(latest);
    };
    using enum ZScoreDirection;
    CHECK(z_fires(above, 14));  // z 3.46
    CHECK_FALSE(z_fires(above, 6));
    CHECK(z_fires(below, 6));
    CHECK_FALSE(z_fires(below, 14));
    CHECK(z_fires(either, 14));
    CHECK(z_fires(either, 6));
    CHECK_FALSE(z_fires(either, 13));  // z 2.6

    const trigger::MetricZScore s{.metric = "m", .window = 5, .threshold = 0.1};
    ZScoreCondition two{s};
    CHECK_FALSE(push_all(two, {1, 1000}));  // a single prior value never fires
    CHECK(two.push(1000));                  // prior {1, 1000}
}

TEST_CASE("z-score: a stddev of 0 never fires, even after the window had spread", "[metrics]") {
    const trigger::MetricZScore s{.metric = "m", .window = 3, .threshold = 1};
    ZScoreCondition c{s};
    CHECK_FALSE(push_all(c, {5, 5, 5, 1e9}));  // prior {5,5,5}: stddev 0
    // Rounding in the sliding recurrences must not fake a tiny spread once 0.1 fills the window
    // (the ring last wrapped, and was recomputed, while 0.2 and 0.7 were still in it).
    ZScoreCondition d{s};
    CHECK_FALSE(push_all(d, {0.2, 0.7, 0.1, 0.1, 0.1}));
    CHECK_FALSE(d.push(0.3));
}

// --- property test and drift --------------------------------------------------------------------

TEST_CASE("property: incremental conditions agree with a naive recomputation", "[metrics]") {
    std::mt19937_64 rng(20261122);
    std::uniform_int_distribution<int> small(-3, 3);
    std::uniform_real_distribution<double> real(-100, 100);
    std::uniform_int_distribution<std::size_t> window(1, 12);
    std::uniform_int_distribution<int> pick(0, 5);
    std::size_t compared = 0;
    for (int stream = 0; stream < 200; ++stream) {
        // Half the streams draw small integers, so ties and "==" are exercised exactly.
        const bool integers = stream % 2 == 0;
        const auto draw = [&] { return integers ? double(small(rng)) : real(rng); };
        const trigger::MetricThreshold ts{.metric = "m",
                                          .window = window(rng),
                                          .aggregate = static_cast<Aggregate>(pick(rng) % 3),
                                          .comparison = static_cast<Comparison>(pick(rng)),
                                          .threshold = double(small(rng))};
        const trigger::MetricChange cs{.metric = "m",
                                       .current_window = window(rng),
                                       .prior_window = window(rng),
                                       .mode = static_cast<ChangeMode>(pick(rng) % 2),
                                       .direction = static_cast<ChangeDirection>(pick(rng) % 3),
                                       .amount = integers ? 0.5 : 0.2};
        const trigger::MetricZScore zs{.metric = "m",
                                       .window = window(rng) + 1,
                                       .direction = static_cast<ZScoreDirection>(pick(rng) % 3),
                                       .threshold = 1.5};
        ThresholdCondition t{ts};
        ChangeCondition c{cs};
        ZScoreCondition z{zs};
        std::vector<double> history;
        for (int i = 0; i < 300; ++i) {
            const double v = draw();
            history.push_back(v);
            const bool t_holds = t.push(v);
            const bool c_holds = c.push(v);
            const bool z_holds = z.push(v);
            const Naive nt = naive_threshold(ts, history);
            if (clear_of(nt.measure, ts.threshold) || integers) {
                REQUIRE(t_holds == nt.holds);
                ++compared;
            }
            const Naive nc = naive_change(cs, history);
            if (!nc.defined)
                REQUIRE_FALSE(c_holds);
            else if (clear_of(nc.measure, cs.amount))
                REQUIRE(c_holds == nc.holds);
            const Naive nz = naive_zscore(zs, history);
            if (!nz.defined)
                REQUIRE_FALSE(z_holds);
            else if (clear_of(nz.measure, zs.threshold))
                REQUIRE(z_holds == nz.holds);
            if (t_holds)
                REQUIRE(t.observe().metric_values == last(history, ts.window));
            if (c_holds)
                REQUIRE(c.observe().metric_values ==
                        last(history, cs.current_window + cs.prior_window));
            if (z_holds)
                REQUIRE(z.observe().metric_values == last(history, zs.window + 1));
        }
    }
    CHECK(compared > 50000);
}

TEST_CASE("drift: running sums and variance match a direct recomputation after a long run",
          "[metrics]") {
    // Phases of huge values followed by small ones are the worst case for running sums and
    // variance: without periodic recomputation the rounding left by the huge values swamps the
    // small ones.
    std::mt19937_64 rng(7);
    std::normal_distribution<double> noise(0, 1);
    constexpr std::size_t window = 30;
    ValueRing ring(window);
    RunningMoments moments;
    const trigger::MetricThreshold ts{
        .metric = "m", .window = window, .comparison = Comparison::equal, .threshold = 0.5};
    ThresholdCondition threshold{ts};
    const auto feed = [&](double value, double threshold_value) {
        moments.update(ring, value);
        if (ring.push(value))
            moments.recompute(ring);
        return threshold.push(threshold_value);
    };
    for (int phase = 0; phase < 2000; ++phase)
        for (int i = 0; i < 500; ++i) {
            const double v = phase % 2 == 0 ? 1e9 + 1e3 * noise(rng) : noise(rng);
            feed(v, v);
        }
    bool holds = false;
    for (std::size_t i = 0; i < 3 * window + 7; ++i)
        holds = feed(1 + 1e-3 * noise(rng), 0.5);
    // The last `window` values are exactly 0.5 each: the average must be exactly 0.5.
    CHECK(holds);
    const std::vector<double> w = ring.to_vector();
    const double mean = mean_of(w);
    double ss = 0;
    for (double v : w)
        ss += (v - mean) * (v - mean);
    const double stddev = std::sqrt(ss / (window - 1));
    CHECK(moments.mean() == Approx(mean).epsilon(1e-12));
    CHECK(moments.stddev(window) == Approx(stddev).epsilon(1e-9));
}

// --- z-score across runs -----------------------------------------------------------------------

TEST_CASE("RunPopulation: the other runs' statistics, the most recent runs kept", "[metrics]") {
    RunPopulation p{3};
    CHECK(p.update("a", 1).count == 0);
    const auto one = p.update("b", 3);
    CHECK(one.count == 1);
    CHECK(one.stddev == 0);
    const auto two = p.update("c", 100);  // compared with a = 1, b = 3
    CHECK(two.count == 2);
    CHECK(two.mean == 2);
    CHECK(two.stddev == Approx(std::sqrt(2.0)));
    const auto again = p.update("a", 5);  // a is not compared with itself: b = 3, c = 100
    CHECK(again.count == 2);
    CHECK(again.mean == 51.5);
    CHECK(p.values_except("a") == std::vector<double>{3, 100});
    p.update("d", 0);  // b was least recently updated: it leaves
    CHECK(p.values_except("") == std::vector<double>{100, 5, 0});
    const auto equal = [] {
        RunPopulation q{5};
        for (const char* run : {"a", "b", "c"})
            q.update(run, 0.1);
        return q.update("d", 7);
    }();
    CHECK(equal.count == 3);
    CHECK(equal.stddev == 0);  // all equal: no spread, whatever the rounding
}

TEST_CASE("property: RunPopulation agrees with a naive recomputation", "[metrics]") {
    std::mt19937_64 rng(5);
    std::uniform_int_distribution<int> run(0, 12);
    std::normal_distribution<double> value(1e6, 3);  // large and close: rounding would show
    for (std::size_t capacity : {2u, 5u, 30u}) {
        RunPopulation p{capacity};
        std::vector<std::pair<std::string, double>> naive;  // least recently updated first
        for (int i = 0; i < 20000; ++i) {
            const std::string id = "run-" + std::to_string(run(rng));
            const double v = value(rng);
            std::vector<double> others;
            for (const auto& [r, x] : naive)
                if (r != id)
                    others.push_back(x);
            const auto got = p.update(id, v);
            REQUIRE(got.count == others.size());
            if (others.size() >= 2) {
                const double m = mean_of(others);
                double ss = 0;
                for (double x : others)
                    ss += (x - m) * (x - m);
                REQUIRE(got.mean == Approx(m).epsilon(1e-12));
                REQUIRE(got.stddev ==
                        Approx(std::sqrt(ss / double(others.size() - 1))).epsilon(1e-6));
            }
            std::erase_if(naive, [&](const auto& e) { return e.first == id; });
            naive.emplace_back(id, v);
            if (naive.size() > capacity)
                naive.erase(naive.begin());
        }
    }
}

TEST_CASE("z-score across runs: the latest value against other runs' latest values", "[metrics]") {
    const trigger::MetricZScore spec{.metric = "loss",
                                     .mode = ZScoreMode::across_runs,
                                     .recent_runs = 30,
                                     .direction = ZScoreDirection::above,
                                     .threshold = 3};
    auto population = std::make_shared<RunPopulation>(spec.recent_runs);
    std::vector<CrossRunZScoreCondition> runs;
    for (int i = 0; i < 4; ++i)
        runs.emplace_back(spec, population, "run-" + std::to_string(i));
    CHECK_FALSE(runs[0].push(1));
    CHECK_FALSE(runs[1].push(2));
    CHECK(runs[2].push(1000));  // others 1, 2: mean 1.5, stddev 0.71, z = 1412
    CHECK_FALSE(runs[2].holds_at(2000));
    CHECK_FALSE(runs[0].push(1.5));   // others 2, 1000: z = -0.7
    CHECK_FALSE(runs[3].push(1001));  // others 2, 1000, 1.5: z = 1.16
    CHECK(runs[3].observe().metric_values == std::vector<double>{2, 1000, 1.5, 1001});
    CHECK_THAT(runs[3].observe().metric_condition,
               Catch::StartsWith("z(loss) = 1.15644 >= 3 (latest 1001, mean 334.5,") &&
                   Catch::EndsWith("over the latest of 3 other runs)"));
}
