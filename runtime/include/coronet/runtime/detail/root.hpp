#pragma once

#include <coronet/runtime/detail/control.hpp>
#include <coronet/runtime/task.hpp>

#include <any>
#include <exception>
#include <functional>
#include <optional>
#include <tuple>
#include <type_traits>
#include <typeinfo>
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

// --- Whether a function takes every parameter by value, so that its frame
// keeps copies of its own and the arguments need not be kept beside it.

template <class Sig>
struct by_value_signature : std::false_type {};
template <class Ret, class... P>
struct by_value_signature<Ret(P...)> : std::bool_constant<(!std::is_reference_v<P> && ...)> {};

template <class F>
struct member_signature {};
#define CORONET_MEMBER_SIGNATURE(qualifiers)               \
    template <class C, class Ret, class... P>              \
    struct member_signature<Ret (C::*)(P...) qualifiers> { \
        using type = Ret(P...);                            \
    };
CORONET_MEMBER_SIGNATURE()
CORONET_MEMBER_SIGNATURE(const)
CORONET_MEMBER_SIGNATURE(noexcept)
CORONET_MEMBER_SIGNATURE(const noexcept)
#undef CORONET_MEMBER_SIGNATURE

template <class Fn, class = void>
struct takes_by_value : std::false_type {};
template <class Ret, class... P>
struct takes_by_value<Ret (*)(P...), void> : by_value_signature<Ret(P...)> {};
template <class Ret, class... P>
struct takes_by_value<Ret (*)(P...) noexcept, void> : by_value_signature<Ret(P...)> {};
// A function object with one call operator that is not a template.
template <class Fn>
struct takes_by_value<Fn, std::void_t<typename member_signature<decltype(&Fn::operator())>::type>>
    : by_value_signature<typename member_signature<decltype(&Fn::operator())>::type> {};

template <class R>
struct root_storage {
    std::optional<R> value_;
    const R* peek() const noexcept { return value_ ? &*value_ : nullptr; }
    R take_value() { return std::move(*value_); }
};
template <class R>
struct root_storage<R&> {
    R* value_ = nullptr;
    const R* peek() const noexcept { return value_; }
    R& take_value() noexcept { return *value_; }
};
template <>
struct root_storage<void> {
    const void* peek() const noexcept { return nullptr; }
    void take_value() noexcept {}
};

/// What a task gives up to the runtime that runs it as a coroutine's body.
struct task_access {
    template <class T>
    static std::coroutine_handle<task_promise<T>> release(task<T>& t) noexcept {
        return std::exchange(t.h_, {});
    }
};

/// The control block of a coroutine whose function returns `task<R>`: the
/// value it ended with, moved out of its frame when it ends.
template <class R>
class result_control : public control {
public:
    using value_type = R;

    /// The coroutine's value, or the exception that ended it.
    R take() {
        if (error_) std::rethrow_exception(error_);
        return storage_.take_value();
    }

    const std::type_info& result_type() const noexcept final { return typeid(R); }

    std::any copy_result() const final {
        if constexpr (!std::is_void_v<R> && std::is_copy_constructible_v<std::remove_cvref_t<R>>) {
            if (const auto* v = storage_.peek()) return std::any(*v);
        }
        return {};
    }

protected:
    using promise = task_promise<R>;

    void adopt(task<R>& body) noexcept { body_ = task_access::release(body); }

private:
    void collect() noexcept final {
        auto& p = std::coroutine_handle<promise>::from_address(body_.address()).promise();
        error_ = nullptr;  // an interrupt still pending is moot now
        if constexpr (std::is_void_v<R>) {
            error_ = std::move(p.error_);
        } else if constexpr (std::is_reference_v<R>) {
            if (p.error_)
                error_ = std::move(p.error_);
            else
                storage_.value_ = p.value_;
        } else {
            if (p.result_.index() == 2) {
                error_ = std::move(std::get<2>(p.result_));
                return;
            }
            try {
                storage_.value_.emplace(std::move(std::get<1>(p.result_)));
            } catch (...) {
                error_ = std::current_exception();
            }
        }
    }

    std::coroutine_handle<> replace(void* fn) final {
        auto& next = *static_cast<std::function<task<R>(spawn_context)>*>(fn);
        task<R> body = next(spawn_context{this});
        adopt(body);
        return body_;
    }

    [[no_unique_address]] root_storage<R> storage_;
};

/// A spawned coroutine's control block with what its frame may refer to: the
/// function object (unless it is a plain function) and, unless the function
/// takes every parameter by value, the arguments. Both are destroyed on the
/// coroutine's shard when its body ends.
template <class R, class Fn, class... Stored>
class spawned final : public result_control<R> {
    static constexpr bool keeps_fn = !std::is_pointer_v<Fn>;
    using call_type =
        std::conditional_t<keeps_fn, std::tuple<Fn, Stored...>, std::tuple<Stored...>>;
    static constexpr bool keeps_call = keeps_fn || sizeof...(Stored) > 0;
    struct nothing {
        void reset() noexcept {}
    };

public:
    /// Calls `fn(args...)` (with a spawn_context first if it asks for one) to
    /// make the body. An exception from that call, or from copying the
    /// arguments, becomes the coroutine's result.
    template <class F, class... A>
    explicit spawned(F&& fn, A&&... args) noexcept {
        try {
            task<R> body = call(std::forward<F>(fn), std::forward<A>(args)...);
            this->adopt(body);
        } catch (...) {
            this->error_ = std::current_exception();
        }
    }
    ~spawned() override {
        if (this->body_) this->body_.destroy();
    }

    const std::type_info& function() const noexcept override { return typeid(Fn); }

private:
    template <class F, class... A>
    task<R> invoke(F& fn, A&&... args) {
        if constexpr (spawn_traits<Fn, std::decay_t<A>...>::plain)
            return std::invoke(fn, std::forward<A>(args)...);
        else
            return std::invoke(fn, spawn_context{this}, std::forward<A>(args)...);
    }

    template <class F, class... A>
    task<R> call(F&& fn, A&&... args) {
        if constexpr (sizeof...(Stored) > 0 && keeps_fn) {
            // Kept here, passed as rvalues: the frame may hold references to them.
            call_.emplace(std::forward<F>(fn), std::forward<A>(args)...);
            return std::apply(
                [this](auto& f, auto&... a) { return this->invoke(f, std::move(a)...); }, *call_);
        } else if constexpr (sizeof...(Stored) > 0) {
            Fn f = fn;
            call_.emplace(std::forward<A>(args)...);
            return std::apply(
                [this, f](auto&... a) mutable { return this->invoke(f, std::move(a)...); }, *call_);
        } else if constexpr (keeps_fn) {
            call_.emplace(std::forward<F>(fn));
            return invoke(std::get<0>(*call_), std::forward<A>(args)...);
        } else {
            Fn f = fn;
            return invoke(f, std::forward<A>(args)...);
        }
    }

    void release_call() noexcept override { call_.reset(); }

    [[no_unique_address]] std::conditional_t<keeps_call, std::optional<call_type>, nothing> call_;
};

/// The control block of a coroutine running `fn(args...)`, its body made and
/// not yet started. The function object is decay-copied into it; arguments
/// are passed straight to a function that takes them all by value (its frame
/// copies them), and decay-copied into the block otherwise, so that they live
/// as long as the coroutine and are passed to `fn` as rvalues.
template <class Fn, class... Args>
auto make_spawned(Fn&& fn, Args&&... args) {
    using F = std::decay_t<Fn>;
    using traits = spawn_traits<F, std::decay_t<Args>...>;
    using R = typename traits::result_type;
    constexpr bool direct = takes_by_value<F>::value &&
                            (traits::plain ? std::is_invocable_v<F&, Args&&...>
                                           : std::is_invocable_v<F&, spawn_context, Args&&...>);
    if constexpr (direct)
        return new spawned<R, F>(std::forward<Fn>(fn), std::forward<Args>(args)...);
    else
        return new spawned<R, F, std::decay_t<Args>...>(std::forward<Fn>(fn),
                                                        std::forward<Args>(args)...);
}

}  // namespace detail
}  // namespace coronet
