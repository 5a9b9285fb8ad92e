#pragma once

#include <gtest/gtest.h>
#include <coronet/coronet.hpp>

#include <utility>

namespace coronet::testing {

/// True in a build with AddressSanitizer.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool address_sanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool address_sanitizer = true;
#else
inline constexpr bool address_sanitizer = false;
#endif
#else
inline constexpr bool address_sanitizer = false;
#endif

/// True where GCC does not turn symmetric transfer into a tail call (its
/// AddressSanitizer instrumentation prevents it): a coroutine awaiting many
/// tasks that complete at once then grows the stack by a frame each time.
inline constexpr bool no_tail_calls = address_sanitizer;

/// A runtime of two shards for each test, so that cross-shard paths run.
class runtime_test : public ::testing::Test {
protected:
    static runtime_options options() {
        runtime_options o;
        o.shards = 2;
        return o;
    }

    /// Runs `t` on the runtime and returns its value (or rethrows).
    template <class T>
    T run(task<T> t) {
        return rt_.sync_wait(std::move(t));
    }

    runtime rt_{options()};
};

}  // namespace coronet::testing
