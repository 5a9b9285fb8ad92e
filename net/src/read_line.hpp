#pragma once

#include <coronet/net/detail/read_ahead.hpp>
#include <coronet/runtime/errc.hpp>

#include <system_error>

namespace coronet::net::detail {

template <class Fill>
task<std::optional<std::string>> read_ahead::read_line(std::size_t max, Fill fill) {
    constexpr std::size_t chunk = 16 * 1024;
    std::size_t scanned = pos_;  // no '\n' before this
    for (;;) {
        std::size_t nl = buf_.find('\n', scanned);
        if (nl != std::string::npos) {
            if (nl - pos_ > max) throw std::system_error(make_error_code(errc::message_too_large));
            std::string line = buf_.substr(pos_, nl - pos_);
            pos_ = nl + 1;
            if (empty()) clear();
            co_return line;
        }
        if (size() > max) throw std::system_error(make_error_code(errc::message_too_large));
        if (pos_ > 0) {
            buf_.erase(0, pos_);
            pos_ = 0;
        }
        std::size_t held = buf_.size();
        scanned = held;
        buf_.resize(held + chunk);
        std::size_t n = 0;
        try {
            n = co_await fill(
                std::span<std::byte>(reinterpret_cast<std::byte*>(buf_.data()) + held, chunk));
        } catch (...) {
            buf_.resize(held);  // keep what was read: the next call returns it
            throw;
        }
        buf_.resize(held + n);
        if (n == 0) {
            if (buf_.empty()) co_return std::nullopt;
            std::string last = std::move(buf_);
            clear();
            co_return last;
        }
    }
}

}  // namespace coronet::net::detail
