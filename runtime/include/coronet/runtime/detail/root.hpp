#pragma once

#include <coronet/runtime/detail/control.hpp>
#include <coronet/runtime/task.hpp>

#include <functional>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

namespace coronet {

/// What a coroutine function receives as its first parameter when it asks for
/// one it was not given by the caller: a reference to the coroutine it runs
/// as. Types such as `coronet::self` are constructed from it.
class spawn_context {
public:
    explicit spawn_context(detail::control* c) noexcept : c_(c) {}
    detail::control* control() const noexcept { return c_; }

private:
    detail::control* c_;
};

namespace detail {

/// The result type `R` of the `task<R>` that `fn(args...)` returns, whether
/// `fn` takes the arguments as given or a `spawn_context` before them.
template <class Fn, class... Args>
struct spawn_traits {
    static constexpr bool plain = std::is_invocable_v<Fn&, Args&&...>;
    static constexpr bool with_context = std::is_invocable_v<Fn&, spawn_context, Args&&...>;
    static_assert(plain || with_context,
                  "spawn: the function cannot be called with these arguments (with or without a "
                  "leading coronet::self)");
    using task_type =
        typename std::conditional_t<plain, std::invoke_result<Fn&, Args&&...>,
                                    std::invoke_result<Fn&, spawn_context, Args&&...>>::type;
    static_assert(is_task_v<task_type>, "spawn: the function must return coronet::task<T>");
    using result_type = typename std::remove_cvref_t<task_type>::value_type;
};

template <class R>
class root;

template <class R>
struct root_storage {
    std::optional<R> value_;
    const R* peek() const noexcept { return value_ ? &*value_ : nullptr; }
    template <class U>
    void return_value(U&& v) {
        value_.emplace(std::forward<U>(v));
    }
    R take_value() { return std::move(*value_); }
};
template <class R>
struct root_storage<R&> {
    R* value_ = nullptr;
    const R* peek() const noexcept { return value_; }
    void return_value(R& v) noexcept { value_ = std::addressof(v); }
    R& take_value() noexcept { return *value_; }
};
template <>
struct root_storage<void> {
    const void* peek() const noexcept { return nullptr; }
    void return_void() noexcept {}
    void take_value() noexcept {}
};

/// The promise of a spawned coroutine's outermost frame: it is the control block.
template <class R>
struct root_promise final : control, root_storage<R> {
    using value_type = R;

    static std::any copy_result(const control& c) {
        if constexpr (!std::is_void_v<R> && std::is_copy_constructible_v<std::remove_cvref_t<R>>) {
            if (const auto* v = static_cast<const root_promise&>(c).peek()) return std::any(*v);
        }
        return {};
    }
    static constexpr result_ops ops{&typeid(R), &copy_result};

    root_promise() noexcept { result_ops_ = &ops; }
    root<R> get_return_object() noexcept;
    std::suspend_always initial_suspend() const noexcept { return {}; }

    struct final_awaiter {
        bool await_ready() const noexcept { return false; }
        void await_suspend(std::coroutine_handle<root_promise> h) const noexcept {
            h.promise().complete();
        }
        void await_resume() const noexcept {}
    };
    final_awaiter final_suspend() const noexcept { return {}; }
    void unhandled_exception() noexcept { error_ = std::current_exception(); }

    /// The coroutine's value, or the exception that ended it.
    R take() {
        if (error_) std::rethrow_exception(error_);
        return this->take_value();
    }

    static void* operator new(std::size_t size) { return frame_allocate(size); }
    static void operator delete(void* p, std::size_t size) noexcept { frame_deallocate(p, size); }
};

template <class R>
class root {
public:
    using promise_type = root_promise<R>;
    explicit root(root_promise<R>* p) noexcept : p_(p) {}
    root_promise<R>* promise() const noexcept { return p_; }

private:
    root_promise<R>* p_;
};

template <class R>
root<R> root_promise<R>::get_return_object() noexcept {
    self_ = std::coroutine_handle<root_promise>::from_promise(*this);
    return root<R>{this};
}

/// The suspension point at a coroutine's very start: one terminated before it
/// ran does not run at all.
struct start_point {
    bool await_ready() const noexcept { return true; }
    void await_suspend(std::coroutine_handle<>) const noexcept {}
    void await_resume() const { current()->interruption_point(); }
};

/// The replacement a hot swap left for a coroutine with result `R`.
using replacement_fn = std::shared_ptr<void>;

template <class Fn, class... Args>
using call_storage = std::optional<std::tuple<Fn, Args...>>;

/// Ends the life of the function and its arguments with the body, on the
/// coroutine's shard (the frame itself may be freed later, on any thread).
template <class Call>
struct call_reset {
    Call& call;
    ~call_reset() { call.reset(); }
};

template <class R, class Fn, class... Args>
root<R> root_body(call_storage<Fn, Args...> call) {
    call_reset<call_storage<Fn, Args...>> reset_call{call};
    co_await start_point{};
    using traits = spawn_traits<Fn, Args...>;
    task<R> body = std::apply(
        [](Fn& f, Args&... a) {
            if constexpr (traits::plain)
                return std::invoke(f, std::move(a)...);
            else
                return std::invoke(f, spawn_context{current()}, std::move(a)...);
        },
        *call);
    std::shared_ptr<void> replacement;  // keeps a swapped-in function alive
    for (;;) {
        try {
            if constexpr (std::is_void_v<R>) {
                co_await std::move(body);
                co_return;
            } else {
                co_return co_await std::move(body);
            }
        } catch (const hot_swap_signal&) {
            attachment* a = current()->get_attachment();
            replacement = a ? a->take_replacement() : nullptr;
            if (!replacement) throw;
        }
        auto& next = *static_cast<std::function<task<R>(spawn_context)>*>(replacement.get());
        body = next(spawn_context{current()});
    }
}

/// Makes the root frame of a coroutine running `fn(args...)`, not yet started.
/// The function and its arguments are decay-copied into the frame, so they
/// live as long as the coroutine (and are destroyed on its shard when it ends);
/// the arguments are passed to `fn` as rvalues.
template <class Fn, class... Args>
auto make_root(Fn&& fn, Args&&... args) {
    using R = typename spawn_traits<std::decay_t<Fn>, std::decay_t<Args>...>::result_type;
    using storage = call_storage<std::decay_t<Fn>, std::decay_t<Args>...>;
    root<R> r = root_body<R, std::decay_t<Fn>, std::decay_t<Args>...>(
        storage(std::in_place, std::forward<Fn>(fn), std::forward<Args>(args)...));
    return r.promise();
}

}  // namespace detail
}  // namespace coronet
