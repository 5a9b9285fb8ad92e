#pragma once

#include <coronet/runtime/task.hpp>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <utility>

namespace coronet::net::detail {

/// The bytes that `read_line` of a file or pipe read past the line it
/// returned, served first by the next read.
class read_ahead {
public:
    /// How many bytes are held.
    std::size_t size() const noexcept { return buf_.size() - pos_; }
    bool empty() const noexcept { return pos_ == buf_.size(); }

    /// Moves up to `out.size()` held bytes into `out`; how many.
    std::size_t take(std::span<std::byte> out) noexcept {
        std::size_t n = std::min(out.size(), size());
        std::memcpy(out.data(), buf_.data() + pos_, n);
        pos_ += n;
        if (empty()) clear();
        return n;
    }
    /// All the held bytes.
    std::string take_all() {
        std::string out = buf_.substr(pos_);
        clear();
        return out;
    }
    /// Holds `data` (when empty): what a read cut short had read.
    void hold(std::string data) noexcept {
        buf_ = std::move(data);
        pos_ = 0;
    }
    void clear() noexcept {
        buf_.clear();
        pos_ = 0;
    }

    /// The next line (without '\n'), reading more with `fill(span)` (a
    /// `task<std::size_t>`, 0 at the end) as needed; defined in the module's
    /// sources.
    template <class Fill>
    task<std::optional<std::string>> read_line(std::size_t max, Fill fill);

private:
    std::string buf_;
    std::size_t pos_ = 0;
};

}  // namespace coronet::net::detail
