#include "storage/published_events.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace herald::detail {

Error already_published(std::string_view event_id) {
    return Error(errc::already_exists, "event_id",
                 "event '" + std::string(event_id) + "' was published already");
}

std::string firing_ids_text(std::span<const Firing> firings) {
    boost::json::array ids;
    ids.reserve(firings.size());
    for (const Firing& f : firings)
        ids.emplace_back(f.id);
    return boost::json::serialize(ids);
}

std::vector<std::string> firing_ids_of(std::string_view text) {
    boost::system::error_code ec;
    const boost::json::value parsed = boost::json::parse(text, ec);
    const boost::json::array* ids = ec ? nullptr : parsed.if_array();
    if (!ids)
        throw Error(errc::storage_failure, "", "a published event's firings are not a JSON array");
    std::vector<std::string> out;
    out.reserve(ids->size());
    for (const boost::json::value& id : *ids) {
        if (!id.is_string())
            throw Error(errc::storage_failure, "",
                        "a published event's firing id is not a JSON string");
        out.emplace_back(id.get_string());
    }
    return out;
}

}  // namespace herald::detail
