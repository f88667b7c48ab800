// A strict reader of the Prometheus text exposition format, version 0.0.4, written from the
// published format (not from herald's writer), for tests that scrape herald's exposition:
//
//     const herald::test::Exposition e = herald::test::parse_exposition(text);  // throws
//     CHECK(e.value("herald_deliveries_total", {{"outcome", "dead"}}) == 1);
//
// It refuses what a scraper would, and what the format's rules forbid: a malformed name, label
// or value; a `# TYPE` after its family's samples, twice, or of an unknown type; a family's
// samples split apart; a label twice; a histogram without `le`, with non-increasing bounds or
// decreasing counts, without `+Inf`, or whose `+Inf` bucket differs from `_count`; a missing
// final newline.
#pragma once

#include <cmath>
#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace herald::test {

using Labels = std::map<std::string, std::string>;

struct ExposedSample {
    std::string name;  ///< as written: with _bucket, _sum, _count for histograms
    Labels labels;
    double value = 0;
};

struct ExposedFamily {
    std::string type = "untyped";
    std::string help;
    std::vector<ExposedSample> samples;
};

struct Exposition {
    std::map<std::string, ExposedFamily> families;

    /// The value of the sample `name` (full sample name) with exactly `labels`.
    std::optional<double> value(const std::string& name, const Labels& labels = {}) const {
        for (const auto& [family_name, family] : families)
            for (const ExposedSample& s : family.samples)
                if (s.name == name && s.labels == labels)
                    return s.value;
        return std::nullopt;
    }
};

namespace exposition_detail {

[[noreturn]] inline void refuse(std::size_t line, const std::string& why) {
    throw std::runtime_error("line " + std::to_string(line) + ": " + why);
}

inline bool name_start(char c, bool colon) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
}
inline bool name_char(char c, bool colon) {
    return name_start(c, colon) || (c >= '0' && c <= '9');
}

/// Reads a metric (colon: true) or label name at `at`.
inline std::string read_name(std::string_view text, std::size_t& at, bool colon, std::size_t line) {
    const std::size_t start = at;
    if (at >= text.size() || !name_start(text[at], colon))
        refuse(line, "expected a name at column " + std::to_string(at + 1));
    while (at < text.size() && name_char(text[at], colon))
        ++at;
    return std::string(text.substr(start, at - start));
}

inline double read_value(std::string_view text, std::size_t line) {
    if (text == "+Inf")
        return INFINITY;
    if (text == "-Inf")
        return -INFINITY;
    if (text == "NaN")
        return NAN;
    if (text.empty())
        refuse(line, "missing value");
    std::size_t used = 0;
    double v = 0;
    try {
        v = std::stod(std::string(text), &used);
    } catch (const std::exception&) {
        refuse(line, "not a number: '" + std::string(text) + "'");
    }
    if (used != text.size() || text.find_first_of("xXpP") != std::string_view::npos ||
        text == "inf" || text == "nan")
        refuse(line, "not a number: '" + std::string(text) + "'");
    return v;
}

/// The family a sample name belongs to: itself, or the histogram it is a series of.
inline std::string family_of(const std::string& sample,
                             const std::map<std::string, ExposedFamily>& families) {
    for (std::string_view suffix : {"_bucket", "_sum", "_count"}) {
        if (sample.size() > suffix.size() && sample.ends_with(suffix)) {
            const std::string base = sample.substr(0, sample.size() - suffix.size());
            if (auto it = families.find(base);
                it != families.end() && it->second.type == "histogram")
                return base;
        }
    }
    return sample;
}

inline void check_histogram(const std::string& name, const ExposedFamily& f) {
    // Series by labels other than le.
    std::map<Labels, std::vector<std::pair<double, double>>> buckets;
    std::map<Labels, double> counts;
    for (const ExposedSample& s : f.samples) {
        Labels rest = s.labels;
        if (s.name == name + "_bucket") {
            const auto le = rest.find("le");
            if (le == rest.end())
                throw std::runtime_error(name + ": a bucket without le");
            const double bound = read_value(le->second, 0);
            rest.erase(le);
            buckets[rest].emplace_back(bound, s.value);
        } else if (s.name == name + "_count") {
            counts[rest] = s.value;
        } else if (s.name != name + "_sum") {
            throw std::runtime_error(name + ": unexpected sample " + s.name);
        }
    }
    for (const auto& [labels, series] : buckets) {
        for (std::size_t i = 1; i < series.size(); ++i)
            if (!(series[i].first > series[i - 1].first) || series[i].second < series[i - 1].second)
                throw std::runtime_error(name + ": buckets out of order or decreasing");
        if (series.empty() || !std::isinf(series.back().first))
            throw std::runtime_error(name + ": no +Inf bucket");
        const auto count = counts.find(labels);
        if (count == counts.end() || count->second != series.back().second)
            throw std::runtime_error(name + ": the +Inf bucket differs from _count");
    }
}

}  // namespace exposition_detail

/// Reads `text`; throws std::runtime_error naming the line and what is wrong.
inline Exposition parse_exposition(std::string_view text) {
    using namespace exposition_detail;
    Exposition out;
    if (!text.empty() && text.back() != '\n')
        refuse(0, "the text does not end in a newline");
    std::set<std::string> typed, closed;
    std::string current;  // the family whose samples are being read
    std::size_t line_no = 0;
    while (!text.empty()) {
        ++line_no;
        const std::size_t end = text.find('\n');
        const std::string_view line = text.substr(0, end);
        text.remove_prefix(end + 1);
        if (line.empty())
            continue;
        if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) {
            std::size_t at = 7;
            const std::string name = read_name(line, at, true, line_no);
            if (at >= line.size() || line[at] != ' ')
                refuse(line_no, "expected a space after the name");
            const std::string rest(line.substr(at + 1));
            ExposedFamily& f = out.families[name];
            if (line[2] == 'T') {
                if (typed.count(name))
                    refuse(line_no, "a second TYPE for " + name);
                if (!f.samples.empty())
                    refuse(line_no, "TYPE after the samples of " + name);
                if (rest != "counter" && rest != "gauge" && rest != "histogram" &&
                    rest != "summary" && rest != "untyped")
                    refuse(line_no, "unknown type '" + rest + "'");
                typed.insert(name);
                f.type = rest;
            } else {
                for (std::size_t i = 0; i < rest.size(); ++i)
                    if (rest[i] == '\\' &&
                        (i + 1 >= rest.size() || (rest[i + 1] != '\\' && rest[i + 1] != 'n')))
                        refuse(line_no, "bad escape in HELP");
                    else if (rest[i] == '\\')
                        ++i;
                f.help = rest;
            }
            continue;
        }
        if (line.front() == '#')
            continue;  // a comment
        std::size_t at = 0;
        ExposedSample s;
        s.name = read_name(line, at, true, line_no);
        if (at < line.size() && line[at] == '{') {
            ++at;
            while (at < line.size() && line[at] != '}') {
                const std::string label = read_name(line, at, false, line_no);
                if (label.starts_with("__"))
                    refuse(line_no, "reserved label name " + label);
                if (at + 1 >= line.size() || line[at] != '=' || line[at + 1] != '"')
                    refuse(line_no, "expected =\" after label " + label);
                at += 2;
                std::string value;
                while (at < line.size() && line[at] != '"') {
                    if (line[at] == '\\') {
                        if (at + 1 >= line.size())
                            refuse(line_no, "unfinished escape");
                        const char e = line[at + 1];
                        if (e == '\\')
                            value += '\\';
                        else if (e == '"')
                            value += '"';
                        else if (e == 'n')
                            value += '\n';
                        else
                            refuse(line_no, std::string("bad escape \\") + e);
                        at += 2;
                    } else {
                        value += line[at++];
                    }
                }
                if (at >= line.size())
                    refuse(line_no, "unterminated label value");
                ++at;  // the closing quote
                if (!s.labels.emplace(label, std::move(value)).second)
                    refuse(line_no, "label " + label + " twice");
                if (at < line.size() && line[at] == ',')
                    ++at;
                else if (at >= line.size() || line[at] != '}')
                    refuse(line_no, "expected , or } after a label");
            }
            if (at >= line.size())
                refuse(line_no, "unterminated label set");
            ++at;
        }
        if (at >= line.size() || line[at] != ' ')
            refuse(line_no, "expected a space before the value");
        std::string_view rest = line.substr(at + 1);
        const std::size_t space = rest.find(' ');
        s.value = read_value(rest.substr(0, space), line_no);
        if (space != std::string_view::npos) {  // a timestamp: an integer of milliseconds
            const std::string_view ts = rest.substr(space + 1);
            if (ts.empty() || ts.find_first_not_of("-0123456789") != std::string_view::npos)
                refuse(line_no, "bad timestamp");
        }
        const std::string family = family_of(s.name, out.families);
        if (family != current) {
            if (closed.count(family))
                refuse(line_no, "the samples of " + family + " are split apart");
            if (!current.empty())
                closed.insert(current);
            current = family;
        }
        out.families[family].samples.push_back(std::move(s));
    }
    for (const auto& [name, f] : out.families) {
        if (f.type == "histogram")
            check_histogram(name, f);
        if (f.type == "counter")
            for (const ExposedSample& s : f.samples)
                if (s.value < 0 || std::isnan(s.value))
                    throw std::runtime_error(name + ": a counter below zero");
    }
    return out;
}

}  // namespace herald::test
