#pragma once

#include <coronet/coronet.hpp>

namespace coronet::testing {

#if defined(__SANITIZE_THREAD__)
inline constexpr bool under_tsan = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
inline constexpr bool under_tsan = true;
#else
inline constexpr bool under_tsan = false;
#endif
#else
inline constexpr bool under_tsan = false;
#endif

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool under_asan = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool under_asan = true;
#else
inline constexpr bool under_asan = false;
#endif
#else
inline constexpr bool under_asan = false;
#endif

/// An iteration count for a stress test: `n`, or less under a sanitizer,
/// which slows every synchronisation down (ThreadSanitizer most).
inline constexpr int stress_count(int n) {
    return under_tsan ? n / 10 : under_asan ? n / 4 : n;
}

/// Busy-waits for about `n` pause instructions: varies the timing of racing
/// operations from round to round, so that each order of them occurs.
inline void jitter(int n) {
    for (int i = 0; i < n; ++i) __builtin_ia32_pause();
}

/// The other shard of the two-shard test runtime.
inline unsigned other_shard() {
    return 1 - this_shard();
}

/// Returns once every coroutine started on `shard` before the call has run
/// up to its first suspension: on the caller's shard the coroutines made ready
/// earlier run before a yield comes back, and work posted to another shard
/// runs in the order it was posted.
inline task<void> settle(unsigned shard) {
    if (shard == this_shard())
        co_await yield();
    else
        co_await submit_to(shard, [] {});
}

/// `settle` on both shards.
inline task<void> settle_all() {
    co_await settle(0);
    co_await settle(1);
}

}  // namespace coronet::testing
