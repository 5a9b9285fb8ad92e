#pragma once

#include <gtest/gtest.h>

#include <unistd.h>

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

/// How many descriptors this process has open.
inline int open_descriptors() {
    int n = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd"))
        ++n;
    return n;
}

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

/// Checks that a test leaves as many descriptors open as it found.
class descriptor_check {
public:
    descriptor_check() : before_(open_descriptors()) {}
    void verify() const { EXPECT_EQ(open_descriptors(), before_) << "descriptors leaked"; }

private:
    int before_;
};

}  // namespace coronet::testing
