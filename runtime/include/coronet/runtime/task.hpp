#pragma once

#include <coronet/runtime/detail/frame_alloc.hpp>

#include <cassert>
#include <coroutine>
#include <exception>
#include <type_traits>
#include <utility>
#include <variant>

namespace coronet {

template <class T = void>
class task;

namespace detail {
struct task_access;

struct task_promise_base {
    std::coroutine_handle<> continuation_ = std::noop_coroutine();

    struct final_awaiter {
        bool await_ready() const noexcept { return false; }
        template <class Promise>
        std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> h) const noexcept {
            return h.promise().continuation_;
        }
        void await_resume() const noexcept {}
    };

    std::suspend_always initial_suspend() const noexcept { return {}; }
    final_awaiter final_suspend() const noexcept { return {}; }

    static void* operator new(std::size_t size) { return frame_allocate(size); }
    static void operator delete(void* p, std::size_t size) noexcept { frame_deallocate(p, size); }
};

template <class T>
struct task_promise : task_promise_base {
    std::variant<std::monostate, T, std::exception_ptr> result_;

    task<T> get_return_object() noexcept;
    void unhandled_exception() noexcept { result_.template emplace<2>(std::current_exception()); }
    template <class U = T>
    requires std::is_convertible_v<U&&, T>
    void return_value(U&& value) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
        result_.template emplace<1>(std::forward<U>(value));
    }
    T take() {
        if (result_.index() == 2) std::rethrow_exception(std::get<2>(result_));
        assert(result_.index() == 1 && "task result read before it completed");
        return std::move(std::get<1>(result_));
    }
};

template <class T>
struct task_promise<T&> : task_promise_base {
    T* value_ = nullptr;
    std::exception_ptr error_;

    task<T&> get_return_object() noexcept;
    void unhandled_exception() noexcept { error_ = std::current_exception(); }
    void return_value(T& value) noexcept { value_ = std::addressof(value); }
    T& take() {
        if (error_) std::rethrow_exception(error_);
        return *value_;
    }
};

template <>
struct task_promise<void> : task_promise_base {
    std::exception_ptr error_;

    task<void> get_return_object() noexcept;
    void unhandled_exception() noexcept { error_ = std::current_exception(); }
    void return_void() noexcept {}
    void take() {
        if (error_) std::rethrow_exception(error_);
    }
};

}  // namespace detail

/// A lazy coroutine producing a `T` (a value, a reference or nothing).
///
/// A task does nothing until it is awaited; awaiting it runs it on the awaiting
/// coroutine's shard by symmetric transfer, so chains of awaits of any depth do
/// not grow the stack. Its value, or the exception that escaped it, is handed
/// to the awaiter. To run a task concurrently, give it to `spawn`.
///
/// Thread safety: a task is a move-only value owned by one coroutine at a time.
///
///     coronet::task<int> answer() { co_return 42; }
///     coronet::task<void> caller() {
///         int v = co_await answer();   // runs answer() now, inline
///     }
template <class T>
class [[nodiscard]] task {
public:
    using promise_type = detail::task_promise<T>;
    using value_type = T;

    task() noexcept = default;
    explicit task(std::coroutine_handle<promise_type> h) noexcept : h_(h) {}
    task(task&& other) noexcept : h_(std::exchange(other.h_, {})) {}
    task& operator=(task&& other) noexcept {
        if (this != &other) {
            if (h_) h_.destroy();
            h_ = std::exchange(other.h_, {});
        }
        return *this;
    }
    task(const task&) = delete;
    task& operator=(const task&) = delete;
    ~task() {
        if (h_) h_.destroy();
    }

    /// True while the task holds a coroutine (it was not moved from).
    bool valid() const noexcept { return static_cast<bool>(h_); }

    auto operator co_await() && noexcept {
        struct awaiter {
            std::coroutine_handle<promise_type> h_;
            bool await_ready() const noexcept { return false; }
            std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller) noexcept {
                h_.promise().continuation_ = caller;
                return h_;
            }
            T await_resume() { return h_.promise().take(); }
        };
        assert(h_ && "awaiting an empty task");
        return awaiter{h_};
    }

private:
    friend struct detail::task_access;
    std::coroutine_handle<promise_type> h_;
};

namespace detail {

template <class T>
task<T> task_promise<T>::get_return_object() noexcept {
    return task<T>{std::coroutine_handle<task_promise<T>>::from_promise(*this)};
}
template <class T>
task<T&> task_promise<T&>::get_return_object() noexcept {
    return task<T&>{std::coroutine_handle<task_promise<T&>>::from_promise(*this)};
}
inline task<void> task_promise<void>::get_return_object() noexcept {
    return task<void>{std::coroutine_handle<task_promise<void>>::from_promise(*this)};
}

template <class T>
struct is_task : std::false_type {};
template <class T>
struct is_task<task<T>> : std::true_type {};

}  // namespace detail

/// True for `coronet::task<T>` of any `T`.
template <class T>
inline constexpr bool is_task_v = detail::is_task<std::remove_cvref_t<T>>::value;

}  // namespace coronet
