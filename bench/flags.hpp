// The command lines of the benchmark programs: `--flag value` pairs.
#pragma once

#include <stdexcept>
#include <string>

namespace herald::bench {

/// Calls `apply(flag, value)` for each `--flag value` pair of the command line, in order, and
/// `usage(why)` (which must not return) for a flag without a value or one whose number does not
/// parse (`std::stoul`'s and `std::stod`'s errors, thrown out of `apply`).
template <class Apply, class Usage>
void for_each_flag(int argc, char** argv, Apply&& apply, Usage&& usage) {
    for (int i = 1; i < argc; ++i) {
        const std::string flag = argv[i];
        if (i + 1 >= argc)
            usage(flag + " needs a value");
        const std::string value = argv[++i];
        try {
            apply(flag, value);
        } catch (const std::logic_error&) {  // std::invalid_argument and std::out_of_range
            usage(flag + ": not a number: " + value);
        }
    }
}

}  // namespace herald::bench
