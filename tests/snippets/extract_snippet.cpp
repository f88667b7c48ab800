// Takes the code examples out of herald's headers and documents so the snippet tests compile
// them exactly as a reader sees them, and checks that no example is left uncompiled.
//
//   herald_snippet_extract SOURCE OUTPUT [NAME]   write SOURCE's example (NAME: a document's) to
//   OUTPUT herald_snippet_extract --check ROOT ENTRY...  fail unless every example under ROOT is an
//   ENTRY
//
// A header's example is the run of comment lines between `// clang-format off` and
// `// clang-format on` in its opening comment (the guard also keeps clang-format from reflowing
// the code); each of its lines is `//`, empty, or `//` followed by five spaces and code. A
// document's example is the ```cpp block right after a line `<!-- snippet: NAME -->`. The output
// starts with a #line directive, so a compiler error names the header's or document's own line.
// An ENTRY is a path relative to ROOT, with `#NAME` for a document's example.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace fs = std::filesystem;

constexpr std::string_view guard_off = "// clang-format off";
constexpr std::string_view guard_on = "// clang-format on";
constexpr std::string_view code_prefix = "//     ";
constexpr std::string_view marker_open = "<!-- snippet: ";
constexpr std::string_view marker_close = " -->";
constexpr std::string_view fence_cpp = "```cpp";
constexpr std::string_view fence_close = "```";

struct Failure {
    std::string what;
};

std::vector<std::string> read_lines(const fs::path& path) {
    std::ifstream in(path);
    if (!in)
        throw Failure{path.string() + ": cannot be read"};
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    return lines;
}

bool is_document(const fs::path& path) {
    return path.extension() == ".md";
}

std::string at(const fs::path& path, std::size_t index) {
    return path.string() + ":" + std::to_string(index + 1);
}

/// A found example: where its code starts (0-based line index) and the code itself.
struct Example {
    std::size_t first_line = 0;
    std::vector<std::string> code;
};

/// The examples in a header's opening comment (the comment lines before the first other line),
/// and refuses example-shaped code outside a guard.
std::vector<Example> header_examples(const fs::path& path, const std::vector<std::string>& lines) {
    std::vector<Example> found;
    std::optional<Example> open;
    for (std::size_t i = 0; i < lines.size() && lines[i].starts_with("//"); ++i) {
        const std::string& line = lines[i];
        if (line == guard_off) {
            if (open)
                throw Failure{at(path, i) + ": a guard opens inside another"};
            open = Example{.first_line = i + 1};
        } else if (line == guard_on) {
            if (!open)
                throw Failure{at(path, i) + ": `// clang-format on` without `off`"};
            found.push_back(std::move(*open));
            open.reset();
        } else if (open) {
            if (line == "//")
                open->code.emplace_back();
            else if (line.starts_with(code_prefix))
                open->code.push_back(line.substr(code_prefix.size()));
            else
                throw Failure{at(path, i) + ": prose inside an example; end the guard first"};
        } else if (line.starts_with(code_prefix)) {
            throw Failure{at(path, i) +
                          ": example code outside `// clang-format off` ... `on`; guard it and "
                          "compile it in tests/snippets"};
        }
    }
    if (open)
        throw Failure{path.string() + ": `// clang-format off` is never turned back on"};
    return found;
}

std::optional<std::string> marker_name(std::string_view line) {
    if (!line.starts_with(marker_open) || !line.ends_with(marker_close))
        return std::nullopt;
    line.remove_prefix(marker_open.size());
    line.remove_suffix(marker_close.size());
    return std::string{line};
}

/// A document's ```cpp blocks by name; a block without a marker is an error.
std::vector<std::pair<std::string, Example>> document_examples(
    const fs::path& path, const std::vector<std::string>& lines) {
    std::vector<std::pair<std::string, Example>> found;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (lines[i] != fence_cpp)
            continue;
        const auto name = i > 0 ? marker_name(lines[i - 1]) : std::nullopt;
        if (!name)
            throw Failure{at(path, i) +
                          ": a ```cpp block needs a `<!-- snippet: NAME -->` line above it and a "
                          "compiled copy in tests/snippets"};
        Example example{.first_line = i + 1};
        for (++i; i < lines.size() && lines[i] != fence_close; ++i)
            example.code.push_back(lines[i]);
        if (i == lines.size())
            throw Failure{path.string() + ": the block `" + *name + "` never closes"};
        found.emplace_back(*name, std::move(example));
    }
    return found;
}

void extract(const fs::path& source, const fs::path& output, const std::string& name) {
    const auto lines = read_lines(source);
    std::optional<Example> example;
    if (is_document(source)) {
        for (auto& [found, e] : document_examples(source, lines))
            if (found == name)
                example = std::move(e);
        if (!example)
            throw Failure{source.string() + ": no example named `" + name + "`"};
    } else {
        auto found = header_examples(source, lines);
        if (found.size() != 1)
            throw Failure{source.string() + ": needs exactly one guarded example, has " +
                          std::to_string(found.size())};
        example = std::move(found.front());
    }
    fs::create_directories(output.parent_path());
    std::ofstream out(output);
    out << "#line " << example->first_line + 1 << " \"" << source.generic_string() << "\"\n";
    for (const std::string& line : example->code)
        out << line << '\n';
    if (!out.flush())
        throw Failure{output.string() + ": cannot be written"};
}

/// Every example under ROOT (headers in include/ and src/, README.md, doc/*.md), as entries.
std::set<std::string> examples_under(const fs::path& root) {
    std::set<std::string> entries;
    auto add_header = [&](const fs::path& path) {
        if (!header_examples(path, read_lines(path)).empty())
            entries.insert(path.lexically_relative(root).generic_string());
    };
    auto add_document = [&](const fs::path& path) {
        for (const auto& [name, example] : document_examples(path, read_lines(path)))
            entries.insert(path.lexically_relative(root).generic_string() + "#" + name);
    };
    for (const char* folder : {"include", "src"})
        for (const auto& entry : fs::recursive_directory_iterator(root / folder))
            if (entry.is_regular_file() && entry.path().extension() == ".hpp")
                add_header(entry.path());
    add_document(root / "README.md");
    for (const auto& entry : fs::directory_iterator(root / "doc"))
        if (entry.path().extension() == ".md")
            add_document(entry.path());
    return entries;
}

int check(const fs::path& root, const std::set<std::string>& registered) {
    int failures = 0;
    for (const std::string& entry : examples_under(root)) {
        if (registered.contains(entry))
            continue;
        std::cerr << entry << ": example not compiled; add it to tests/snippets/CMakeLists.txt\n";
        ++failures;
    }
    return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    const std::vector<std::string> args(argv + 1, argv + argc);
    try {
        if (args.size() >= 2 && args[0] == "--check")
            return check(args[1], std::set<std::string>(args.begin() + 2, args.end()));
        if (args.size() == 2 || args.size() == 3) {
            extract(args[0], args[1], args.size() == 3 ? args[2] : "");
            return 0;
        }
        std::cerr << "usage: herald_snippet_extract SOURCE OUTPUT [NAME]\n"
                     "       herald_snippet_extract --check ROOT ENTRY...\n";
        return 2;
    } catch (const Failure& f) {
        std::cerr << "herald_snippet_extract: " << f.what << '\n';
    } catch (const std::exception& e) {
        std::cerr << "herald_snippet_extract: " << e.what() << '\n';
    }
    return 1;
}
