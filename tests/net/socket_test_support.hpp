#pragma once

#include <coronet/coronet.hpp>
#include "os_probes.hpp"

#include <stdlib.h>

#include <cerrno>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

namespace coronet::testing {

/// A new directory under /tmp, removed with what it holds when it goes.
class scratch_dir {
public:
    scratch_dir() {
        std::string pattern = "/tmp/coronet-net-XXXXXX";
        if (!::mkdtemp(pattern.data())) throw std::system_error(errno, std::system_category());
        path_ = pattern;
    }
    scratch_dir(const scratch_dir&) = delete;
    scratch_dir& operator=(const scratch_dir&) = delete;
    ~scratch_dir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    std::string path() const { return path_.string(); }
    /// The path of `name` in the directory.
    std::string operator/(const std::string& name) const { return (path_ / name).string(); }

private:
    std::filesystem::path path_;
};

/// How many descriptors the process has open, but for those of the sanitizers
/// and the C library (descriptor_targets).
inline int count_open_fds() {
    return static_cast<int>(descriptor_targets().size());
}

inline std::span<const std::byte> bytes_of(std::string_view s) {
    return std::as_bytes(std::span(s.data(), s.size()));
}

inline std::span<std::byte> bytes_of(std::string& s) {
    return std::as_writable_bytes(std::span(s.data(), s.size()));
}

/// The error code of the `std::system_error` that awaiting `a` throws, or an
/// empty one.
template <class Awaitable>
task<std::error_code> error_of(Awaitable a) {
    try {
        co_await std::move(a);
    } catch (const std::system_error& e) {
        co_return e.code();
    }
    co_return std::error_code();
}

/// The OS error `e` as an error code of the system category.
inline std::error_code os_error(int e) {
    return {e, std::system_category()};
}

}  // namespace coronet::testing
