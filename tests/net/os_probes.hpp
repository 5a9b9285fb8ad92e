#pragma once

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace coronet::testing {

/// A new directory under /tmp, removed with what it holds when it goes.
class temp_dir {
public:
    temp_dir() {
        std::string pattern = "/tmp/coronet-test-XXXXXX";
        if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    ~temp_dir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }

    const std::filesystem::path& path() const noexcept { return path_; }
    /// The path of `name` in the directory.
    std::string operator/(const std::string& name) const { return (path_ / name).string(); }

private:
    std::filesystem::path path_;
};

/// The processes whose parent is this one, zombies included.
inline std::vector<int> child_processes() {
    std::vector<int> out;
    const pid_t me = ::getpid();
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
        const std::string name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream stat(entry.path() / "stat");
        std::string line;
        if (!std::getline(stat, line)) continue;  // gone meanwhile
        // pid (comm) state ppid ...: comm may hold spaces and parentheses.
        std::istringstream rest(line.substr(line.rfind(')') + 1));
        std::string state;
        int ppid = 0;
        rest >> state >> ppid;
        if (ppid == me) out.push_back(std::stoi(name));
    }
    return out;
}

/// The files mapped into this process: the executable and its libraries.
inline std::vector<std::string> mapped_files() {
    std::vector<std::string> out;
    std::ifstream maps("/proc/self/maps");
    for (std::string line; std::getline(maps, line);) {
        std::size_t slash = line.find('/');
        if (slash != std::string::npos) out.push_back(line.substr(slash));
    }
    return out;
}

/// What each open descriptor of this process refers to ("3 -> pipe:[123]"),
/// but for the program's own executable and libraries and /proc/<pid>/maps:
/// ThreadSanitizer's symbolizer opens them (keeping some) the first time it
/// matches a report against the suppressions, at any moment of a test, and
/// coronet never opens them. Nor the time zone file the C library opens for
/// a moment when a thread logs its first message (localtime), which another
/// thread may be doing while this one counts, nor the scheduler statistics a
/// pool thread reads for a moment when it times a call
/// (/proc/thread-self/schedstat). A descriptor closed while it is looked at
/// (by another thread) is not counted.
inline std::vector<std::string> descriptor_targets() {
    const std::vector<std::string> mapped = mapped_files();
    auto not_coronets = [&](const std::string& t) {
        if (t.starts_with("/proc/") && (t.ends_with("/maps") || t.ends_with("/schedstat")))
            return true;
        if (t.starts_with("/usr/share/zoneinfo/") || t == "/etc/localtime") return true;
        return std::find(mapped.begin(), mapped.end(), t) != mapped.end();
    };
    std::vector<std::string> out;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
        std::error_code ec;
        auto target = std::filesystem::read_symlink(entry.path(), ec);
        if (ec || not_coronets(target.string())) continue;  // closed meanwhile, or theirs
        out.push_back(entry.path().filename().string() + " -> " + target.string());
    }
    return out;
}

/// Checks that a test leaves as many descriptors open as it found, and names
/// the ones it left.
class descriptor_check {
public:
    descriptor_check() : before_(descriptor_targets()) {}
    void verify() const {
        std::vector<std::string> after = descriptor_targets();
        if (after.size() == before_.size()) return;
        std::string added;
        for (const std::string& d : after)
            if (std::find(before_.begin(), before_.end(), d) == before_.end()) added += d + "; ";
        ADD_FAILURE() << "descriptors leaked: " << before_.size() << " open before, "
                      << after.size() << " after; new: " << added;
    }

private:
    std::vector<std::string> before_;
};

}  // namespace coronet::testing
