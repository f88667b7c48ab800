#include <herald/error.hpp>

#include <string>

namespace herald {
namespace {

class Category final : public boost::system::error_category {
  public:
    const char* name() const noexcept override { return "herald"; }

    std::string message(int value) const override {
        switch (static_cast<errc>(value)) {
            case errc::invalid_argument:
                return "invalid argument";
            case errc::invalid_json:
                return "invalid JSON";
            case errc::not_found:
                return "not found";
            case errc::already_exists:
                return "already exists";
            case errc::permission_denied:
                return "permission denied";
            case errc::in_use:
                return "still in use";
            case errc::storage_failure:
                return "storage failure";
            case errc::unsupported:
                return "unsupported";
        }
        return "unknown herald error";
    }
};

std::string compose(errc code, const std::string& field, const std::string& reason) {
    std::string text = make_error_code(code).message();
    if (!field.empty())
        text += ": " + field;
    if (!reason.empty())
        text += ": " + reason;
    return text;
}

}  // namespace

const boost::system::error_category& error_category() noexcept {
    static const Category category;
    return category;
}

Error::Error(errc code, std::string field, std::string reason)
    : std::runtime_error(compose(code, field, reason)),
      code_(code),
      field_(std::move(field)),
      reason_(std::move(reason)) {}

}  // namespace herald
