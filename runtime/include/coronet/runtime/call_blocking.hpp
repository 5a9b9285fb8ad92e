#pragma once

#include <coronet/runtime/detail/outcome.hpp>
#include <coronet/runtime/dispatcher.hpp>
#include <coronet/runtime/spawn_blocking.hpp>
#include <coronet/runtime/task.hpp>
#include <coronet/runtime/yield.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

namespace coronet {

class blocking_target;

namespace detail {
inline blocking_key_state& key_of(blocking_target& target, dispatcher& d);
}  // namespace detail

/// The target of a blocking call (a device, a host name, a data source and
/// statement) under its primitive, for a caller that calls it over and over:
/// the dispatcher looks its name up once per shard instead of on every call.
/// Thread safety: one caller at a time; it may move between shards.
///
///     coronet::blocking_target sync(coronet::io_op::file_sync, device_name);
///     for (auto& f : files) co_await coronet::call_blocking(sync, [&] { return ::fsync(f); });
class blocking_target {
public:
    blocking_target() = default;
    blocking_target(io_op op, std::string name) : op_(op), name_(std::move(name)) {}

    io_op op() const noexcept { return op_; }
    const std::string& name() const noexcept { return name_; }

private:
    friend detail::blocking_key_state& detail::key_of(blocking_target& target,
                                                      detail::dispatcher& d);
    io_op op_ = io_op::other;
    std::string name_;
    std::uint64_t dispatcher_ = 0;  // the id of the dispatcher `key_` belongs to
    detail::blocking_key_state* key_ = nullptr;
};

namespace detail {

/// The state of `target` in dispatcher `d`, looked up on the first call of
/// the target on `d`'s shard.
inline blocking_key_state& key_of(blocking_target& target, dispatcher& d) {
    if (target.dispatcher_ != d.id()) {
        target.key_ = &d.key(target.op_, target.name_);
        target.dispatcher_ = d.id();
    }
    return *target.key_;
}

/// A target named by value, looked up on every call.
struct named_target {
    io_op op;
    std::string name;
};

inline io_op op_of(const named_target& t) noexcept {
    return t.op;
}
inline io_op op_of(const blocking_target* t) noexcept {
    return t->op();
}
inline blocking_key_state& key_of(named_target& t, dispatcher& d) {
    return d.key(t.op, t.name);
}
inline blocking_key_state& key_of(blocking_target* t, dispatcher& d) {
    return key_of(*t, d);
}

/// call_blocking for a `named_target` or a `blocking_target*`.
template <class Target, class Fn, class Interrupt>
[[nodiscard]] task<std::invoke_result_t<Fn&>> call_blocking_on(Target target, Fn fn,
                                                               Interrupt interrupt) {
    using R = std::invoke_result_t<Fn&>;
    using clock = std::chrono::steady_clock;
    dispatcher& d = this_dispatcher();
    blocking_key_state& key = key_of(target, d);
    const io_op op = op_of(target);
    if (d.run_inline(key, ready_count())) {
        auto start = clock::now();
        d.begin_inline(key, start);
        call_outcome<R> out = invoke_captured<R>(fn);
        d.record(op, key, clock::now() - start, true);
        if (d.completed_inline(op)) co_await yield();
        co_return out.get();
    }
    d.counters(op).offloads.add();
    // Whether the key's calls compute or wait decides how many of them the
    // pool runs at once; what the pool thread used says which.
    const bool sample = key.sample_cpu();
    std::chrono::nanoseconds took{};     // the call alone: the key's latency
    std::chrono::nanoseconds sampled{};  // the call and the readings of its usage
    thread_usage used{};
    auto offloaded = spawn_blocking(
        [&fn, &took, &sampled, &used, sample] {
            // The usage is read within the sampled wall time, so that the
            // readings' own CPU time is in both; they take microseconds (a
            // file of /proc among them) that are not the call's latency.
            auto outer = clock::now();
            thread_usage before = sample ? thread_usage_now() : thread_usage{};
            auto start = sample ? clock::now() : outer;
            call_outcome<R> out = invoke_captured<R>(fn);
            auto end = clock::now();
            took = end - start;
            if (sample) {
                thread_usage after = thread_usage_now();
                used = {after.cpu - before.cpu, after.waits - before.waits,
                        after.queued - before.queued};
                sampled = clock::now() - outer;
            }
            return out;
        },
        std::move(interrupt));
    offloaded.cpu_bound_ = key.cpu_bound();
    call_outcome<R> out = co_await std::move(offloaded);
    d.record(op, key, took, false);
    if (sample) key.record_cpu(sampled, used.cpu, used.waits > 0, used.queued);
    co_return out.get();
}

}  // namespace detail

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
    return detail::call_blocking_on(detail::named_target{op, std::move(target)}, std::move(fn),
                                    std::move(interrupt));
}

/// As above, without an interrupt: a call running on the pool when the caller
/// is terminated is waited for and its result dropped.
template <class Fn>
[[nodiscard]] task<std::invoke_result_t<Fn&>> call_blocking(io_op op, std::string target, Fn fn) {
    return call_blocking(op, std::move(target), std::move(fn), detail::no_interrupt{});
}

/// As above, for a `target` called over and over; `target` must outlive the
/// call.
template <class Fn, class Interrupt = detail::no_interrupt>
[[nodiscard]] task<std::invoke_result_t<Fn&>> call_blocking(blocking_target& target, Fn fn,
                                                            Interrupt interrupt = {}) {
    return detail::call_blocking_on(&target, std::move(fn), std::move(interrupt));
}

}  // namespace coronet
