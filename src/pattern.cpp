#include <herald/error.hpp>
#include <herald/pattern.hpp>

#include <re2/re2.h>

#include <mutex>
#include <unordered_map>

namespace herald {
namespace detail {

struct CompiledRegex {
    explicit CompiledRegex(const std::string& source) : re(source, options()) {}

    static RE2::Options options() {
        RE2::Options o;
        o.set_log_errors(false);
        return o;
    }

    RE2 re;
};

}  // namespace detail

namespace {

bool has_metacharacters(std::string_view s) noexcept {
    return s.find_first_of("\\.+*?()|[]{}^$") != std::string_view::npos;
}

/// Compiled expressions shared by source text: automations often repeat a pattern, and sharing
/// one RE2 program saves its memory and keeps it warm in the cache for every one of them.
class RegexCache {
  public:
    std::shared_ptr<const detail::CompiledRegex> get(const std::string& source) {
        std::lock_guard lock(mutex_);
        auto& slot = cache_[source];
        if (auto live = slot.lock())
            return live;
        auto regex = std::make_shared<const detail::CompiledRegex>(source);
        if (!regex->re.ok())
            return regex;  // not cached: the caller throws
        slot = regex;
        if (cache_.size() > 2 * live_at_last_sweep_ + 64)
            sweep();
        return regex;
    }

  private:
    void sweep() {
        std::erase_if(cache_, [](const auto& entry) { return entry.second.expired(); });
        live_at_last_sweep_ = cache_.size();
    }

    std::mutex mutex_;
    std::unordered_map<std::string, std::weak_ptr<const detail::CompiledRegex>> cache_;
    std::size_t live_at_last_sweep_ = 0;
};

RegexCache& regex_cache() {
    static RegexCache cache;
    return cache;
}

}  // namespace

Pattern::Pattern(std::string source) : source_(std::move(source)) {
    if (source_.empty())
        throw Error(errc::invalid_argument, "", "pattern is empty");
    if (!has_metacharacters(source_))
        return;
    auto regex = regex_cache().get(source_);
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
