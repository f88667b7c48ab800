// The pending period and hysteresis of a metric trigger as a state machine over its
// evaluations: normal -> pending -> firing -> recovering -> normal (see herald::Hysteresis).
//
// `advance` takes one evaluation — whether the condition holds, and (asked only in firing or
// recovering, when it does not hold) whether the value crossed the recovery bound — and says
// what happened; the caller decides, with the cooldown, whether that is a firing. O(1), no
// allocation; the clock is read when the condition starts holding, and while it is pending
// for a duration.
//
// clang-format off
//     ConditionProgress p;  // kept per (automation, run)
//     LazyNow now{clock};
//     if (advance(p, hysteresis, holds, [&] { return crossed_recovery; }, now) ==
//         Transition::activated)
//         fire();  // entered firing
// clang-format on
#pragma once

#include "util/lazy_now.hpp"

#include <herald/trigger.hpp>
#include <herald/trigger_state_store.hpp>

namespace herald::detail {

/// What one evaluation did to a condition's state.
enum class Transition {
    none,             ///< stayed normal, pending or recovering, or entered pending or recovering
    activated,        ///< entered firing from normal or pending
    held,             ///< stayed firing, or came back to it from recovering
    resolved,         ///< returned to normal after an episode that fired
    resolved_silent,  ///< returned to normal after an episode that never fired
};

/// Whether the pending period is over for a condition that holds.
inline bool pending_done(const ConditionProgress& p, const Hysteresis& h, LazyNow& now) {
    if (p.streak < h.pending_evaluations)
        return false;
    return h.pending_for.count() == 0 || now.get() - *p.holding_since >= h.pending_for;
}

/// Advances `p` by one evaluation; `recovered()` says whether the statistic crossed the
/// recovery bound (called only when the condition does not hold, in firing or recovering).
template <class Recovered>
Transition advance(ConditionProgress& p, const Hysteresis& h, bool holds, Recovered&& recovered,
                   LazyNow& now) {
    if (holds) {
        switch (p.state) {
            case ConditionState::normal:
                p.streak = 0;
                p.holding_since = now.get();
                [[fallthrough]];
            case ConditionState::pending:
                if (p.streak < h.pending_evaluations)
                    ++p.streak;
                if (!pending_done(p, h, now)) {
                    p.state = ConditionState::pending;
                    return Transition::none;
                }
                p.state = ConditionState::firing;
                return Transition::activated;
            case ConditionState::firing:
            case ConditionState::recovering:
                p.state = ConditionState::firing;
                return Transition::held;
        }
    }
    switch (p.state) {
        case ConditionState::normal:
            return Transition::none;
        case ConditionState::pending:
            p = {};
            return Transition::none;
        case ConditionState::firing:
        case ConditionState::recovering:
            if (h.recovery && !recovered()) {
                p.state = ConditionState::recovering;
                return Transition::none;
            }
            const bool fired = p.fired;
            p = {};
            return fired ? Transition::resolved : Transition::resolved_silent;
    }
    return Transition::none;
}

}  // namespace herald::detail
