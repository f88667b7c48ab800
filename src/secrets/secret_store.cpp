#include "json/json_text.hpp"

#include <herald/error.hpp>
#include <herald/secret_store.hpp>

#include <algorithm>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <utility>

namespace herald {

// --- SecretValue ----------------------------------------------------------------------------

SecretValue::SecretValue(SecretValue&& other) noexcept : value_(other.value_) {
    other.wipe();
}

SecretValue& SecretValue::operator=(const SecretValue& other) {
    if (this != &other) {
        wipe();
        value_ = other.value_;
    }
    return *this;
}

SecretValue& SecretValue::operator=(SecretValue&& other) noexcept {
    if (this != &other) {
        wipe();
        value_ = other.value_;
        other.wipe();
    }
    return *this;
}

SecretValue::~SecretValue() {
    wipe();
}

void SecretValue::wipe() noexcept {
    // Overwrites the whole buffer (also bytes past size() that an earlier value left), through a
    // volatile pointer so the stores are not optimised away.
    value_.resize(value_.capacity());
    volatile char* p = value_.data();
    for (std::size_t i = 0; i < value_.size(); ++i)
        p[i] = 0;
    value_.clear();
}

// --- MemorySecretStore ----------------------------------------------------------------------

struct MemorySecretStore::State {
    mutable std::shared_mutex mutex;
    /// entity -> name -> secret; ordered, so `names` comes out sorted.
    std::map<std::string, std::map<std::string, StoredSecret, std::less<>>, std::less<>> secrets;

    const StoredSecret* find(std::string_view entity, std::string_view name) const {
        auto e = secrets.find(entity);
        if (e == secrets.end())
            return nullptr;
        auto s = e->second.find(name);
        return s == e->second.end() ? nullptr : &s->second;
    }
};

MemorySecretStore::MemorySecretStore() : state_(std::make_unique<State>()) {}
MemorySecretStore::~MemorySecretStore() = default;

void MemorySecretStore::put(std::string_view entity, std::string_view name,
                            const StoredSecret& secret) {
    std::unique_lock lock(state_->mutex);
    auto e = state_->secrets.find(entity);
    if (e == state_->secrets.end())
        e = state_->secrets.emplace(std::string(entity), decltype(e->second){}).first;
    e->second.insert_or_assign(std::string(name), secret);
}

std::optional<StoredSecret> MemorySecretStore::get(std::string_view entity,
                                                   std::string_view name) const {
    std::shared_lock lock(state_->mutex);
    const StoredSecret* found = state_->find(entity, name);
    return found ? std::optional<StoredSecret>(*found) : std::nullopt;
}

bool MemorySecretStore::contains(std::string_view entity, std::string_view name) const {
    std::shared_lock lock(state_->mutex);
    return state_->find(entity, name) != nullptr;
}

bool MemorySecretStore::erase(std::string_view entity, std::string_view name) {
    std::unique_lock lock(state_->mutex);
    auto e = state_->secrets.find(entity);
    if (e == state_->secrets.end())
        return false;
    auto s = e->second.find(name);
    if (s == e->second.end())
        return false;
    e->second.erase(s);
    return true;
}

std::vector<std::string> MemorySecretStore::names(std::string_view entity) const {
    std::shared_lock lock(state_->mutex);
    std::vector<std::string> out;
    if (auto e = state_->secrets.find(entity); e != state_->secrets.end())
        for (const auto& [name, secret] : e->second)
            out.push_back(name);
    return out;
}

// --- SecretResolver -------------------------------------------------------------------------

struct SecretResolver::Entry {
    std::string name;
    StoredSecret secret;
};

SecretResolver::SecretResolver(const SecretStore& store, std::string entity, Timestamp now,
                               std::string access_token_secret)
    : store_(store),
      entity_(std::move(entity)),
      now_(now),
      access_token_secret_(std::move(access_token_secret)) {}

SecretResolver::~SecretResolver() = default;

const SecretResolver::Entry& SecretResolver::entry(std::string_view name) {
    if (name == "ACCESS_TOKEN") {
        if (access_token_secret_.empty())
            throw Error(errc::not_found, "secret",
                        "the integration has no access token for ${ACCESS_TOKEN}");
        name = access_token_secret_;
    }
    for (const auto& e : read_)
        if (e->name == name)
            return *e;
    std::optional<StoredSecret> found = store_.get(entity_, name);
    if (!found)
        throw Error(errc::not_found, "secret",
                    "entity '" + entity_ + "' has no secret '" + std::string(name) + "'");
    read_.push_back(std::make_unique<Entry>(Entry{std::string(name), std::move(*found)}));
    return *read_.back();
}

const SecretValue& SecretResolver::value(std::string_view name) {
    return entry(name).secret.value;
}

std::vector<std::string_view> SecretResolver::signing_keys(std::string_view name) {
    const StoredSecret& secret = entry(name).secret;
    std::vector<std::string_view> keys{secret.value.reveal()};
    if (secret.previous && now_ < secret.previous_expires)
        keys.push_back(secret.previous->reveal());
    return keys;
}

std::string SecretResolver::redact(std::string_view text) const {
    // Every value as read and as a JSON payload carries it; longest first, so a value that
    // contains another is masked whole.
    std::vector<SecretValue> values;
    const auto add = [&values](const SecretValue& value) {
        if (value.empty())
            return;
        values.push_back(value);
        std::string escaped;
        detail::append_json_escaped(escaped, value.reveal());
        if (escaped != value.reveal())
            values.emplace_back(escaped);
        std::fill(escaped.begin(), escaped.end(), '\0');
    };
    for (const auto& e : read_) {
        add(e->secret.value);
        if (e->secret.previous)
            add(*e->secret.previous);
    }
    std::sort(values.begin(), values.end(), [](const SecretValue& a, const SecretValue& b) {
        return a.reveal().size() > b.reveal().size();
    });
    std::string out(text);
    for (const SecretValue& value : values)
        for (std::size_t at = out.find(value.reveal()); at != std::string::npos;
             at = out.find(value.reveal(), at + masked_secret.size()))
            out.replace(at, value.reveal().size(), masked_secret);
    return out;
}

}  // namespace herald
