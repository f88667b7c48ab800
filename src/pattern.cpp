#include <herald/error.hpp>
#include <herald/pattern.hpp>

#include <re2/re2.h>

namespace herald {

struct Pattern::Regex {
    explicit Regex(const std::string& source) : re(source, options()) {}

    static RE2::Options options() {
        RE2::Options o;
        o.set_log_errors(false);
        return o;
    }

    RE2 re;
};

namespace {

bool has_metacharacters(std::string_view s) noexcept {
    return s.find_first_of("\\.+*?()|[]{}^$") != std::string_view::npos;
}

}  // namespace

Pattern::Pattern(std::string source) : source_(std::move(source)) {
    if (source_.empty())
        throw Error(errc::invalid_argument, "", "pattern is empty");
    if (!has_metacharacters(source_))
        return;
    auto regex = std::make_shared<const Regex>(source_);
    if (!regex->re.ok())
        throw Error(errc::invalid_argument, "",
                    "pattern '" + source_ + "' does not compile: " + regex->re.error());
    regex_ = std::move(regex);
}

bool Pattern::matches(std::string_view name) const noexcept {
    if (!regex_)
        return name == source_;
    return RE2::PartialMatch(re2::StringPiece(name.data(), name.size()), regex_->re);
}

}  // namespace herald
