#pragma once

#include <coronet/actors/pid.hpp>
#include <coronet/actors/self.hpp>
#include <coronet/runtime/task.hpp>

#include <functional>
#include <memory>
#include <type_traits>
#include <typeinfo>
#include <utility>

namespace coronet {

/// The outcome of a hot swap request.
enum class swap_result {
    accepted,       ///< it takes effect at the coroutine's next (or current) receive
    refused,        ///< the coroutine does not accept swaps (self::hot_swappable)
    dead,           ///< the coroutine has ended
    type_mismatch,  ///< the new function's result type differs from the running one's
};

namespace detail {
task<swap_result> hot_swap_erased(pid target, const std::type_info& result_type,
                                  std::shared_ptr<void> replacement);
}

/// Replaces the function coroutine `target` runs with `fn(self)`, keeping its
/// pid, mailbox, names and monitors. The swap happens only where the
/// coroutine waits in receive: its current function unwinds from there (its
/// destructors run) and `fn` starts. The coroutine must have accepted swaps
/// with `self.hot_swappable()`; `fn` must return `task<R>` for the same `R`.
///
/// From a coroutine of the target's runtime.
///
///     co_await coronet::hot_swap(server, [](coronet::self s) { return serve_v2(s); });
template <class Fn>
[[nodiscard]] task<swap_result> hot_swap(pid target, Fn fn) {
    using task_type = std::invoke_result_t<Fn&, self>;
    static_assert(is_task_v<task_type>, "hot_swap: the function must return coronet::task<R>");
    using R = typename task_type::value_type;
    auto replacement = std::make_shared<std::function<task<R>(spawn_context)>>(
        [fn = std::move(fn)](spawn_context c) mutable { return fn(self(c)); });
    return detail::hot_swap_erased(target, typeid(R), std::move(replacement));
}

}  // namespace coronet
