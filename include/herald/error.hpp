// herald/error.hpp — error codes and the exception thrown by herald's synchronous calls.
//
// Expected failures are `herald::errc` values in herald's error category, usable as
// `boost::system::error_code` (and so as `std::error_code`). Synchronous management calls
// throw `herald::Error`, which carries the code, the offending field and a reason:
//
// clang-format off
//     try {
//         engine.automations().create(admin, automation);
//     } catch (const herald::Error& e) {
//         std::cerr << e.field() << ": " << e.reason() << '\n';   // "trigger.alias: pattern ..."
//     }
// clang-format on
//
// Messages never contain secret values.
#pragma once

#include <boost/system/error_code.hpp>

#include <stdexcept>
#include <string>
#include <type_traits>

namespace herald {

/// The expected failures of herald's operations.
enum class errc {
    invalid_argument = 1,  ///< a field of the input is malformed or out of range
    invalid_json,          ///< input that should be JSON is not
    not_found,             ///< the named automation, integration or secret does not exist
    already_exists,        ///< a name is already taken within its scope
    permission_denied,     ///< the principal may not do this
    in_use,                ///< still referenced; retry with force
    storage_failure,       ///< the storage backend failed
    unsupported,           ///< the backend or configuration cannot do this
};

/// herald's error category ("herald").
const boost::system::error_category& error_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), error_category()};
}

/// Thrown by synchronous calls. `field()` names the input that is wrong ("trigger.window",
/// "name"), empty when the failure is not about one field; `reason()` says why.
/// Thread safety: immutable once thrown.
class Error : public std::runtime_error {
  public:
    Error(errc code, std::string field, std::string reason);

    errc code() const noexcept { return code_; }
    const std::string& field() const noexcept { return field_; }
    const std::string& reason() const noexcept { return reason_; }

  private:
    errc code_;
    std::string field_;
    std::string reason_;
};

}  // namespace herald

template <>
struct boost::system::is_error_code_enum<herald::errc> : std::true_type {};
