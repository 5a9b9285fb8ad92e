#pragma once

#include <exception>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

namespace coronet::detail {

/// The outcome of a call: its value or its exception.
template <class R>
struct call_outcome {
    std::optional<std::conditional_t<std::is_void_v<R>, char, R>> value;
    std::exception_ptr error;

    R get() {
        if (error) std::rethrow_exception(error);
        if constexpr (!std::is_void_v<R>) return std::move(*value);
    }
};

template <class R, class Fn>
call_outcome<R> invoke_captured(Fn& fn) noexcept {
    call_outcome<R> out;
    try {
        if constexpr (std::is_void_v<R>) {
            std::invoke(fn);
            out.value.emplace('\0');
        } else {
            out.value.emplace(std::invoke(fn));
        }
    } catch (...) {
        out.error = std::current_exception();
    }
    return out;
}

}  // namespace coronet::detail
