#pragma once

#include <utility>

namespace coronet::detail {

/// Holds a locked `Mutex` and unlocks it when destroyed (or by `unlock`). Only
/// the mutex makes one that holds a lock.
///
/// Thread safety: a move-only value owned by one coroutine at a time.
template <class Mutex>
class lock_guard {
public:
    lock_guard() noexcept = default;
    lock_guard(lock_guard&& o) noexcept : m_(std::exchange(o.m_, nullptr)) {}
    lock_guard& operator=(lock_guard&& o) noexcept {
        if (this != &o) {
            unlock();
            m_ = std::exchange(o.m_, nullptr);
        }
        return *this;
    }
    lock_guard(const lock_guard&) = delete;
    lock_guard& operator=(const lock_guard&) = delete;
    ~lock_guard() { unlock(); }

    /// True while the guard holds its mutex.
    bool owns_lock() const noexcept { return m_ != nullptr; }
    explicit operator bool() const noexcept { return owns_lock(); }

    /// Unlocks the mutex now; a no-op if the guard holds none.
    void unlock() noexcept {
        if (m_) std::exchange(m_, nullptr)->unlock();
    }

private:
    friend Mutex;
    explicit lock_guard(Mutex& m) noexcept : m_(&m) {}

    Mutex* m_ = nullptr;
};

}  // namespace coronet::detail
