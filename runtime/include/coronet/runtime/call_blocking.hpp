#pragma once

#include <coronet/runtime/detail/outcome.hpp>
#include <coronet/runtime/dispatcher.hpp>
#include <coronet/runtime/spawn_blocking.hpp>
#include <coronet/runtime/task.hpp>
#include <coronet/runtime/yield.hpp>

#include <chrono>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

namespace coronet {

/// Runs `fn()`, a call that can only block (open, fsync, name resolution, a
/// database call), through the shard's dispatcher, keyed by `op` and `target`
/// (a device, a host name, a data source and statement). While the key's
/// measured latency is small and the shard is not saturated the call runs
/// inline, at the cost of a plain function call; otherwise it runs on the
/// blocking pool and the coroutine waits. `runtime_options::io` forces either.
///
/// Errors: what `fn` throws. Cancellation: as spawn_blocking when offloaded:
/// terminating the caller while `fn` runs calls `interrupt()` on the caller's
/// shard, which should make `fn` return soon (`SQLCancel`, say); an inline
/// call cannot be interrupted. Call it from a coroutine of a runtime.
///
///     int fd = co_await coronet::call_blocking(coronet::io_op::file_open, path,
///                                              [&] { return ::open(path.c_str(), O_RDONLY); });
template <class Fn, class Interrupt>
[[nodiscard]] task<std::invoke_result_t<Fn&>> call_blocking(io_op op, std::string target, Fn fn,
                                                            Interrupt interrupt) {
    using R = std::invoke_result_t<Fn&>;
    using clock = std::chrono::steady_clock;
    detail::dispatcher& d = detail::this_dispatcher();
    detail::blocking_key_state& key = d.key(op, target);
    if (d.run_inline(key, detail::ready_count())) {
        auto start = clock::now();
        d.begin_inline(key, start);
        detail::call_outcome<R> out = detail::invoke_captured<R>(fn);
        d.record(op, key, clock::now() - start, true);
        if (d.completed_inline(op)) co_await yield();
        co_return out.get();
    }
    d.counters(op).offloads.add();
    std::chrono::nanoseconds took{};
    auto offloaded = spawn_blocking(
        [&fn, &took] {
            auto start = clock::now();
            detail::call_outcome<R> out = detail::invoke_captured<R>(fn);
            took = clock::now() - start;
            return out;
        },
        std::move(interrupt));
    detail::call_outcome<R> out = co_await std::move(offloaded);
    d.record(op, key, took, false);
    co_return out.get();
}

/// As above, without an interrupt: a call running on the pool when the caller
/// is terminated is waited for and its result dropped.
template <class Fn>
[[nodiscard]] task<std::invoke_result_t<Fn&>> call_blocking(io_op op, std::string target, Fn fn) {
    return call_blocking(op, std::move(target), std::move(fn), detail::no_interrupt{});
}

}  // namespace coronet
