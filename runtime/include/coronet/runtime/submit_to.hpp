#pragma once

#include <coronet/runtime/detail/outcome.hpp>
#include <coronet/runtime/detail/remote.hpp>
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

/// Runs a plain (non-coroutine) callable on another shard and resumes the
/// caller with its outcome: two hand-overs through the shards' inboxes, no
/// coroutine spawned. The call runs to completion once posted.
template <class Fn>
class remote_call_awaiter {
public:
    using result_type = std::invoke_result_t<Fn&>;

    remote_call_awaiter(Fn& fn, unsigned shard) noexcept : fn_(fn), shard_(shard) {}
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) {
        me_ = &require_current();
        h_ = h;
        post_to(*this_runtime(), shard_, [this] {
            out_ = invoke_captured<result_type>(fn_);
            schedule(me_, h_);  // back to the caller's shard; this may be gone after
        });
    }
    result_type await_resume() {
        me_->interruption_point();
        return out_.get();
    }

private:
    Fn& fn_;
    unsigned shard_;
    control* me_ = nullptr;
    std::coroutine_handle<> h_;
    call_outcome<result_type> out_;
};

}  // namespace detail

/// Runs `fn` on shard `shard` and returns its result to the caller's shard.
/// `fn` is a callable returning a value or a `task<T>`; it is moved to the
/// target shard. On the caller's own shard it runs inline, with no hand-over.
/// This is the one way to touch another shard's state.
///
/// Errors: what `fn` throws; `std::system_error(errc::invalid_shard)` for a
/// bad index. Cancellation: terminating the caller terminates a coroutine `fn`
/// on the target shard too; a plain function, being short, runs to the end
/// first. Call it from a coroutine of a runtime.
///
///     // count the connections of every shard
///     std::size_t total = 0;
///     for (unsigned s = 0; s < coronet::shard_count(); ++s)
///         total += co_await coronet::submit_to(s, [] { return local_connections(); });
template <class Fn>
[[nodiscard]] task<detail::submit_result_t<Fn>> submit_to(unsigned shard, Fn fn) {
    using R = detail::submit_result_t<Fn>;
    if (shard == this_shard()) co_return co_await detail::run_here<Fn>(std::move(fn));
    if (shard >= shard_count()) throw std::system_error(make_error_code(errc::invalid_shard));
    if constexpr (!is_task_v<std::invoke_result_t<Fn&>>) {
        co_return co_await detail::remote_call_awaiter<Fn>(fn, shard);
    } else {
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
}

}  // namespace coronet
