#pragma once

#include <coronet_test.hpp>

#include <chrono>
#include <string>
#include <utility>

namespace coronet::testing {

#if defined(__SANITIZE_THREAD__)
inline constexpr bool actors_under_tsan = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
inline constexpr bool actors_under_tsan = true;
#else
inline constexpr bool actors_under_tsan = false;
#endif
#else
inline constexpr bool actors_under_tsan = false;
#endif

/// Long enough that a wait which should succeed never times out, even on a
/// loaded machine under a sanitizer; tests never wait for it to pass.
inline constexpr std::chrono::seconds patience{20};

/// Short: for waits that are meant to time out.
inline constexpr std::chrono::milliseconds brief{30};

/// "I am ready", with the sender's pid, sent to the test coroutine.
struct ready {
    pid who;
};

/// Lets a waiting coroutine go on.
struct go {};

/// A request that wants an answer.
struct ping {
    pid reply_to;
    int n = 0;
};

/// An answer to a ping.
struct pong {
    std::string from;
    int n = 0;
};

/// The two-shard runtime, with the test's body run as a coroutine of its own
/// (so that it has a `self`) on a chosen shard.
class actors_test : public runtime_test {
protected:
    /// Spawns `fn` (which may take a `coronet::self`) on `shard` and waits for it.
    template <class Fn>
    auto run_on(unsigned shard, Fn fn) {
        return rt_.spawn_on(shard, std::move(fn)).wait();
    }
};

/// Runs the work queued on the caller's shard before this call, then returns:
/// a coroutine spawned on this shard just before has reached its first wait.
inline task<void> let_others_run() {
    co_await yield();
}

}  // namespace coronet::testing
