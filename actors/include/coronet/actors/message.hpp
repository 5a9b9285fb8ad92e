#pragma once

#include <cstddef>
#include <cstring>
#include <new>
#include <stdexcept>
#include <type_traits>
#include <typeinfo>
#include <utility>

namespace coronet {

/// A type-erased message: any movable value. Between coroutines of one
/// process a message is moved, never serialized; small values live inline.
///
/// Thread safety: a message is a value, owned by one coroutine at a time.
///
///     coronet::message m = 42L;
///     if (auto n = m.get_if<long>()) total += *n;
///     if (m.is<std::string>()) log(m.get<std::string>());
class message {
public:
    message() noexcept = default;

    template <class T, class D = std::decay_t<T>>
    requires(!std::is_same_v<D, message> && std::is_move_constructible_v<D>)
        message(T&& value) {  // NOLINT: implicit, so that send(pid, 5L) reads naturally
        emplace<D>(std::forward<T>(value));
    }

    message(message&& o) noexcept { take_from(o); }
    message& operator=(message&& o) noexcept {
        if (this != &o) {
            reset();
            take_from(o);
        }
        return *this;
    }
    message(const message&) = delete;
    message& operator=(const message&) = delete;
    ~message() { reset(); }

    /// True when the message holds no value (default-constructed or moved from).
    bool empty() const noexcept { return ops_ == nullptr; }
    /// The type of the held value (`typeid(void)` when empty).
    const std::type_info& type() const noexcept { return ops_ ? ops_->type : typeid(void); }

    template <class T>
    bool is() const noexcept {
        return ops_ && (ops_ == &ops_for<T>::value || ops_->type == typeid(T));
    }

    /// A pointer to the value if it is a `T`, else null.
    template <class T>
    T* get_if() noexcept {
        return is<T>() ? static_cast<T*>(ops_->get(storage())) : nullptr;
    }
    template <class T>
    const T* get_if() const noexcept {
        return is<T>() ? static_cast<const T*>(ops_->get(const_cast<message*>(this)->storage()))
                       : nullptr;
    }

    /// The value as a `T`; `std::bad_cast` if it is not one.
    template <class T>
    T& get() {
        if (T* p = get_if<T>()) return *p;
        throw std::bad_cast();
    }
    template <class T>
    const T& get() const {
        if (const T* p = get_if<T>()) return *p;
        throw std::bad_cast();
    }

    /// Moves the value out as a `T`; `std::bad_cast` if it is not one.
    template <class T>
    T take() {
        T v = std::move(get<T>());
        reset();
        return v;
    }

    /// True if the value can be copied (channels copy a message per subscriber).
    bool copyable() const noexcept { return ops_ && ops_->copy; }

    /// A copy of the message; `std::logic_error` if its type cannot be copied.
    message clone() const {
        message m;
        if (!ops_) return m;
        if (!ops_->copy)
            throw std::logic_error("coronet::message: cannot copy a value of a move-only type");
        ops_->copy(m.storage(), const_cast<message*>(this)->storage());
        m.ops_ = ops_;
        return m;
    }

    void reset() noexcept {
        if (ops_ && !ops_->trivial) ops_->destroy(storage());
        ops_ = nullptr;
    }

private:
    static constexpr std::size_t inline_size = 24;

    template <class T>
    static constexpr bool fits_inline =
        sizeof(T) <= inline_size &&
        alignof(T) <= alignof(std::max_align_t) && std::is_nothrow_move_constructible_v<T>;

    struct ops {
        bool trivial;  // held inline and trivially copyable: moved by memcpy
        const std::type_info& type;
        void* (*get)(void* storage) noexcept;
        void (*move)(void* dst, void* src) noexcept;  // leaves src to be destroyed
        void (*destroy)(void* storage) noexcept;
        void (*copy)(void* dst, void* src);  // null for move-only types
    };

    template <class T>
    struct ops_for {
        static void* get(void* s) noexcept {
            if constexpr (fits_inline<T>)
                return s;
            else
                return *static_cast<T**>(s);
        }
        static void move(void* dst, void* src) noexcept {
            if constexpr (fits_inline<T>)
                ::new (dst) T(std::move(*static_cast<T*>(src)));
            else
                *static_cast<T**>(dst) = std::exchange(*static_cast<T**>(src), nullptr);
        }
        static void destroy(void* s) noexcept {
            if constexpr (fits_inline<T>)
                static_cast<T*>(s)->~T();
            else
                delete *static_cast<T**>(s);
        }
        // Instantiated for every T (its address is named below); called only
        // when T is copyable.
        static void copy(void* dst, void* src) {
            if constexpr (std::is_copy_constructible_v<T>) {
                const T& from = *static_cast<const T*>(get(src));
                if constexpr (fits_inline<T>)
                    ::new (dst) T(from);
                else
                    *static_cast<T**>(dst) = new T(from);
            }
        }
        static constexpr ops value{
            fits_inline<T> && std::is_trivially_copyable_v<T>, typeid(T), &get, &move, &destroy,
            std::is_copy_constructible_v<T> ? &copy : nullptr};
    };

    template <class D, class T>
    void emplace(T&& v) {
        if constexpr (fits_inline<D>)
            ::new (storage()) D(std::forward<T>(v));
        else
            *static_cast<D**>(storage()) = new D(std::forward<T>(v));
        ops_ = &ops_for<D>::value;
    }

    void* storage() noexcept { return buf_; }

    void take_from(message& o) noexcept {
        ops_ = o.ops_;
        if (!ops_) return;
        if (ops_->trivial) {
            // The whole buffer, whatever the value's size: bytes past it are
            // indeterminate, which copying as unsigned char allows.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
            std::memcpy(buf_, o.buf_, inline_size);
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
        } else {
            ops_->move(storage(), o.storage());
            ops_->destroy(o.storage());
        }
        o.ops_ = nullptr;
    }

    alignas(std::max_align_t) unsigned char buf_[inline_size];
    const ops* ops_ = nullptr;
};

}  // namespace coronet
