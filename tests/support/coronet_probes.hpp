#pragma once

#include <coronet/runtime/event.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <utility>

namespace coronet::testing {

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define CORONET_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#define CORONET_TEST_SANITIZED 1
#endif
#endif

/// True in a ThreadSanitizer or AddressSanitizer build, which runs many times
/// slower: stress tests run fewer rounds there.
#ifdef CORONET_TEST_SANITIZED
inline constexpr bool under_sanitizer = true;
#else
inline constexpr bool under_sanitizer = false;
#endif

/// `normal` rounds, or `sanitized` rounds in a sanitizer build.
constexpr int rounds(int normal, int sanitized) {
    return under_sanitizer ? sanitized : normal;
}

/// Adds one to a counter when it is destroyed: put one in a coroutine's frame
/// to see that the frame was unwound. A moved-from probe counts nothing.
class destruction_probe {
public:
    explicit destruction_probe(std::atomic<int>& count) noexcept : count_(&count) {}
    destruction_probe(destruction_probe&& o) noexcept : count_(std::exchange(o.count_, nullptr)) {}
    destruction_probe& operator=(destruction_probe&&) = delete;
    ~destruction_probe() {
        if (count_) count_->fetch_add(1);
    }

private:
    std::atomic<int>* count_;
};

/// Sets an event when it is destroyed: put one in a coroutine's frame to await
/// the frame's unwinding from another coroutine.
class set_on_destruction {
public:
    explicit set_on_destruction(coronet::event& e) noexcept : e_(&e) {}
    set_on_destruction(const set_on_destruction&) = delete;
    set_on_destruction& operator=(const set_on_destruction&) = delete;
    ~set_on_destruction() { e_->set(); }

private:
    coronet::event* e_;
};

/// A one-shot gate that plain threads (the test's own, or the blocking pool's)
/// block on; never wait on one from a shard.
class gate {
public:
    void open() {
        {
            std::lock_guard guard(mutex_);
            open_ = true;
        }
        cv_.notify_all();
    }

    /// Blocks until the gate opens, for at most `limit`; false if it did not.
    bool wait(std::chrono::milliseconds limit = std::chrono::seconds(10)) {
        std::unique_lock lock(mutex_);
        return cv_.wait_for(lock, limit, [&] { return open_; });
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    bool open_ = false;
};

}  // namespace coronet::testing
