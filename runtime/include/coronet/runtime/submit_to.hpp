#pragma once

#include <coronet/runtime/errc.hpp>
#include <coronet/runtime/runtime.hpp>
#include <coronet/runtime/task.hpp>

#include <type_traits>
#include <utility>

namespace coronet {

namespace detail {

template <class T>
struct type_identity_value {
    using value_type = T;
};

template <class Fn>
using submit_result_t =
    typename std::conditional_t<is_task_v<std::invoke_result_t<Fn&>>,
                                std::remove_cvref_t<std::invoke_result_t<Fn&>>,
                                type_identity_value<std::invoke_result_t<Fn&>>>::value_type;

/// Runs `fn` where it stands: awaits it if it is a coroutine, calls it if not.
template <class Fn>
task<submit_result_t<Fn>> run_here(Fn fn) {
    if constexpr (is_task_v<std::invoke_result_t<Fn&>>) {
        co_return co_await fn();
    } else if constexpr (std::is_void_v<submit_result_t<Fn>>) {
        fn();
    } else {
        co_return fn();
    }
}

}  // namespace detail

/// Runs `fn` on shard `shard` and returns its result to the caller's shard.
/// `fn` is a callable returning a value or a `task<T>`; it is moved to the
/// target shard. On the caller's own shard it runs inline, with no hand-over.
/// This is the one way to touch another shard's state.
///
/// Errors: what `fn` throws; `std::system_error(errc::invalid_shard)` for a
/// bad index. Cancellation: terminating the caller terminates the work on the
/// target shard too. Call it from a coroutine of a runtime.
///
///     // count the connections of every shard
///     std::size_t total = 0;
///     for (unsigned s = 0; s < coronet::shard_count(); ++s)
///         total += co_await coronet::submit_to(s, [] { return local_connections(); });
template <class Fn>
[[nodiscard]] task<detail::submit_result_t<Fn>> submit_to(unsigned shard, Fn fn) {
    using R = detail::submit_result_t<Fn>;
    if (shard == this_shard()) co_return co_await detail::run_here<Fn>(std::move(fn));
    auto h = coronet::spawn_on(shard, &detail::run_here<Fn>, std::move(fn));
    h.set_daemon();
    try {
        if constexpr (std::is_void_v<R>)
            co_await h.join();
        else
            co_return co_await h.join();
    } catch (...) {
        h.terminate();  // the caller was terminated or timed out: so is the work
        throw;
    }
}

}  // namespace coronet
