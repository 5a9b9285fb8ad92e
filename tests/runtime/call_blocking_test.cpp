#include <coronet/runtime/call_blocking.hpp>
#include <coronet_probes.hpp>
#include <coronet_test.hpp>

#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <chrono>
#include <latch>
#include <stdexcept>
#include <thread>

namespace {

using namespace std::chrono_literals;
using coronet::io_op;
using coronet::task;

coronet::runtime_options one_shard(coronet::io_mode mode = coronet::io_mode::adaptive) {
    coronet::runtime_options o;
    o.shards = 1;
    o.io = mode;
    return o;
}

/// Calls `fn` through the dispatcher `n` times; how many ran on the shard's own thread.
template <class Fn>
task<int> calls_on_shard(std::string key, int n, Fn fn) {
    int on_shard = 0;
    for (int i = 0; i < n; ++i) {
        auto shard_thread = std::this_thread::get_id();
        bool inline_call = co_await coronet::call_blocking(io_op::other, key, [&] {
            fn();
            return std::this_thread::get_id() == shard_thread;
        });
        on_shard += inline_call;
    }
    co_return on_shard;
}

TEST(CallBlockingTest, FastCallsRunInlineOnTheShard) {
    coronet::runtime rt(one_shard());
    EXPECT_EQ(rt.sync_wait(calls_on_shard("fast", 100, [] {})), 100);
    auto c = rt.io_stats(io_op::other);
    EXPECT_EQ(c.inline_completions, 100u);
    EXPECT_EQ(c.offloads, 0u);
}

TEST(CallBlockingTest, ASlowKeyIsOffloadedAfterAFewCalls) {
    coronet::runtime rt(one_shard());
    int on_shard =
        rt.sync_wait(calls_on_shard("slow", 8, [] { std::this_thread::sleep_for(2ms); }));
    // Three 2 ms calls are enough (fewer when the machine makes them slower).
    EXPECT_GE(on_shard, 1);
    EXPECT_LE(on_shard, 3);
    auto c = rt.io_stats(io_op::other);
    EXPECT_EQ(c.offloads, static_cast<std::uint64_t>(8 - on_shard));
    EXPECT_EQ(c.mode_switches, 1u);
}

TEST(CallBlockingTest, KeysAreDecidedSeparately) {
    coronet::runtime rt(one_shard());
    rt.sync_wait(calls_on_shard("slow", 4, [] { std::this_thread::sleep_for(2ms); }));
    EXPECT_EQ(rt.sync_wait(calls_on_shard("fast", 10, [] {})), 10);
}

TEST(CallBlockingTest, ACallThatStallsTheShardOffloadsItsKeyAtOnce) {
    coronet::runtime rt(one_shard());
    int on_shard =
        rt.sync_wait(calls_on_shard("stall", 3, [] { std::this_thread::sleep_for(20ms); }));
    EXPECT_EQ(on_shard, 1);
    EXPECT_EQ(rt.io_stats(io_op::other).stalls, 1u);
}

TEST(CallBlockingTest, AKeyOffloadedByAnEarlyStallComesBackInline) {
    // The default stall limit (5 ms), well above what an empty call takes even
    // when a loaded machine takes the shard's core away for a while.
    coronet::runtime_options o = one_shard();
    coronet::runtime rt(o);
    const int run = static_cast<int>(o.io_policy.inline_after);
    // The first call is slow (a cold cache, a connect), the later ones fast.
    EXPECT_EQ(rt.sync_wait(calls_on_shard("warm", 1, [] { std::this_thread::sleep_for(8ms); })), 1);
    ASSERT_EQ(rt.io_stats(io_op::other).stalls, 1u);
    int on_shard = rt.sync_wait(calls_on_shard("warm", 4 * run, [] {}));
    EXPECT_GE(on_shard, 2 * run) << "the key must come back after a run of fast calls";
    auto c = rt.io_stats(io_op::other);
    EXPECT_EQ(c.mode_switches, 2u);
    EXPECT_EQ(rt.sync_wait(calls_on_shard("warm", 100, [] {})), 100);
}

TEST(CallBlockingTest, AlwaysAsyncOffloadsEveryCall) {
    coronet::runtime rt(one_shard(coronet::io_mode::always_async));
    EXPECT_EQ(rt.sync_wait(calls_on_shard("fast", 10, [] {})), 0);
    EXPECT_EQ(rt.io_stats(io_op::other).offloads, 10u);
}

TEST(CallBlockingTest, AlwaysSyncRunsEveryCallInline) {
    coronet::runtime rt(one_shard(coronet::io_mode::always_sync));
    EXPECT_EQ(rt.sync_wait(calls_on_shard("slow", 5, [] { std::this_thread::sleep_for(2ms); })), 5);
    EXPECT_EQ(rt.io_stats(io_op::other).offloads, 0u);
}

TEST(CallBlockingTest, ExceptionsReachTheCallerInlineAndOffloaded) {
    for (auto mode : {coronet::io_mode::always_sync, coronet::io_mode::always_async}) {
        coronet::runtime rt(one_shard(mode));
        EXPECT_THROW(rt.sync_wait(coronet::call_blocking(
                         io_op::other, "k", []() -> int { throw std::runtime_error("x"); })),
                     std::runtime_error);
    }
}

TEST(CallBlockingTest, ACoroutineCompletingInlineTooOftenYieldsToOthers) {
    coronet::runtime_options o = one_shard();
    o.io_policy.inline_budget = 8;
    coronet::runtime rt(o);
    bool other_ran = false;
    int calls_before = rt.sync_wait([&]() -> task<int> {
        auto other = coronet::spawn([&]() -> task<void> {
            other_ran = true;
            co_return;
        });
        int n = 0;
        while (!other_ran && n < 1000) {
            co_await coronet::call_blocking(io_op::other, "fast", [] { return 0; });
            ++n;
        }
        co_await other.join();
        co_return n;
    }());
    EXPECT_TRUE(other_ran);
    EXPECT_LE(calls_before, 8);
    EXPECT_GE(rt.io_stats(io_op::other).budget_yields, 1u);
}

TEST(CallBlockingTest, SpendingTheInlineBudgetEndsTheShardsTurn) {
    // A sleep that is due at once wakes only when the loop looks at its
    // timers, between turns: it must not wait for a busy coroutine's
    // thousand resumptions.
    coronet::runtime rt(one_shard());
    int calls_before = rt.sync_wait([&]() -> task<int> {
        bool woke = false;
        auto sleeper = coronet::spawn([&]() -> task<void> {
            co_await coronet::sleep(0ms);
            woke = true;
        });
        co_await coronet::yield();  // the sleeper is on the timer heap now
        int n = 0;
        while (!woke && n < 10'000) {
            co_await coronet::call_blocking(io_op::other, "fast", [] { return 0; });
            ++n;
        }
        co_await sleeper.join();
        co_return n;
    }());
    EXPECT_LE(calls_before, 3 * 64) << "the turn went on past the inline budget";
}

TEST(CallBlockingTest, AStalledInlineCallOffloadsItsKeyOnOtherShardsWhileItRuns) {
    coronet::runtime_options o;
    o.shards = 2;
    coronet::runtime rt(o);
    // The call on shard 0 holds its shard until shard 1 has been told to
    // offload the key: the watchdog must act while the call still runs.
    bool told_in_time = rt.spawn_on(0, [&rt]() -> task<bool> {
                              co_return co_await coronet::call_blocking(io_op::other, "db", [&rt] {
                                  auto give_up = std::chrono::steady_clock::now() + 20s;
                                  while (rt.io_stats(io_op::other, 1).mode_switches == 0) {
                                      if (std::chrono::steady_clock::now() > give_up) return false;
                                      std::this_thread::yield();
                                  }
                                  return true;
                              });
                          }).wait();
    EXPECT_TRUE(told_in_time);
    EXPECT_EQ(rt.io_stats(io_op::other, 0).stalls, 1u);
    // Shard 1 never ran the key inline: its first call goes to the pool.
    int on_shard_1 = rt.spawn_on(1, [] { return calls_on_shard("db", 1, [] {}); }).wait();
    EXPECT_EQ(on_shard_1, 0);
    EXPECT_EQ(rt.io_stats(io_op::other, 1).offloads, 1u);
    EXPECT_EQ(rt.io_stats(io_op::other, 1).inline_completions, 0u);
}

TEST(CallBlockingTest, TerminatingTheCallerInterruptsARunningCall) {
    coronet::runtime rt(one_shard(coronet::io_mode::always_async));
    coronet::testing::gate started, released;
    std::atomic<int> interrupts{0};
    auto caller = rt.spawn([&]() -> task<void> {
        co_await coronet::call_blocking(
            io_op::other, "interruptible",
            [&] {
                started.open();
                EXPECT_TRUE(released.wait());  // until the interrupt, or 10 s
            },
            [&]() noexcept {
                interrupts.fetch_add(1);
                released.open();
            });
    });
    ASSERT_TRUE(started.wait());  // the call runs on the pool
    caller.terminate();
    EXPECT_THROW(caller.wait(), coronet::terminated);
    EXPECT_EQ(interrupts.load(), 1);
}

TEST(CallBlockingTest, AnInterruptIsNotCalledForACallThatCompletes) {
    coronet::runtime rt(one_shard(coronet::io_mode::always_async));
    std::atomic<int> interrupts{0};
    int v = rt.sync_wait(coronet::call_blocking(
        io_op::other, "completes", [] { return 7; }, [&]() noexcept { interrupts.fetch_add(1); }));
    EXPECT_EQ(v, 7);
    EXPECT_EQ(interrupts.load(), 0);
}

// ------------------------------------------------------------------ calls that compute

/// Runs on the calling thread until it has used `d` of CPU time.
void compute_for(std::chrono::nanoseconds d) {
    auto end = coronet::detail::thread_usage_now().cpu + d;
    while (coronet::detail::thread_usage_now().cpu < end) {
    }
}

/// Calls `fn` through the dispatcher under `key` until the dispatcher finds
/// the key CPU-bound, at most `limit` times; whether it did.
template <class Fn>
task<bool> call_until_cpu_bound(std::string key, int limit, Fn fn) {
    auto& state = coronet::detail::this_dispatcher().key(io_op::other, key);
    for (int i = 0; i < limit && !state.cpu_bound(); ++i)
        co_await coronet::call_blocking(io_op::other, key, fn);
    co_return state.cpu_bound();
}

TEST(ThreadUsageTest, TheTimeAThreadWaitsForACoreIsMeasured) {
    // Two threads computing on one core: each waits for the other's slices.
    std::latch go(2);
    std::atomic<std::int64_t> most_queued{0};
    auto compute = [&] {
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(0, &one);
        ASSERT_EQ(pthread_setaffinity_np(pthread_self(), sizeof one, &one), 0);
        go.arrive_and_wait();
        auto before = coronet::detail::thread_usage_now();
        compute_for(30ms);
        auto queued = (coronet::detail::thread_usage_now().queued - before.queued).count();
        for (auto m = most_queued.load();
             queued > m && !most_queued.compare_exchange_weak(m, queued);) {
        }
    };
    std::thread a(compute), b(compute);
    a.join();
    b.join();
    EXPECT_GE(std::chrono::nanoseconds(most_queued.load()), 5ms);
}

coronet::runtime_options one_cpu_slot() {
    auto o = one_shard(coronet::io_mode::always_async);
    o.cpu_bound_threads = 1;
    o.blocking_threads = 8;
    return o;
}

TEST(CallBlockingTest, ComputingCallsBeyondTheirThreadsWaitWhileCallsThatWaitGoAhead) {
    struct computing {
        std::atomic<bool> release{false};
        std::atomic<int> running{0};
        std::atomic<int> peak{0};
        std::atomic<int> started{0};
        coronet::testing::gate first_in;
    } st;  // outlives the runtime, whose pool threads read it
    coronet::runtime rt(one_cpu_slot());
    ASSERT_TRUE(rt.sync_wait(call_until_cpu_bound("compute", 20, [] { compute_for(1ms); })));
    auto compute = [](computing* st) -> task<void> {
        co_await coronet::call_blocking(io_op::other, "compute", [st] {
            int now = st->running.fetch_add(1) + 1;
            for (int p = st->peak.load(); now > p && !st->peak.compare_exchange_weak(p, now);) {
            }
            if (st->started.fetch_add(1) == 0) st->first_in.open();
            auto give_up = std::chrono::steady_clock::now() + 20s;
            while (!st->release.load() && std::chrono::steady_clock::now() < give_up) {
            }  // it computes until released
            st->running.fetch_sub(1);
        });
    };
    auto a = rt.spawn_on(0, compute, &st);
    ASSERT_TRUE(st.first_in.wait());  // `a` holds the only CPU slot
    auto b = rt.spawn_on(0, compute, &st);
    coronet::testing::gate waited;
    auto c = rt.spawn_on(0, [&waited]() -> task<void> {
        co_await coronet::call_blocking(io_op::other, "wait", [&waited] { waited.open(); });
    });
    // `b` was queued before `c`; `c`, which does not compute, goes ahead.
    EXPECT_TRUE(waited.wait()) << "a call that waits queued behind a computing one";
    EXPECT_EQ(st.started.load(), 1) << "a second computing call took a core of its own";
    st.release = true;
    a.wait();
    b.wait();
    c.wait();
    EXPECT_EQ(st.started.load(), 2);
    EXPECT_EQ(st.peak.load(), 1);
}

TEST(CallBlockingTest, StoppingTheRuntimeWithComputingCallsQueuedEndsEveryCaller) {
    std::atomic<bool> release{false};
    std::atomic<int> started{0};
    std::atomic<int> unwound{0};
    coronet::testing::gate first_in;
    {
        coronet::runtime rt(one_cpu_slot());
        ASSERT_TRUE(rt.sync_wait(call_until_cpu_bound("compute", 20, [] { compute_for(1ms); })));
        for (int i = 0; i < 4; ++i)
            rt.spawn_on(0, [&]() -> task<void> {
                  struct on_exit {
                      std::atomic<int>& n;
                      ~on_exit() { n.fetch_add(1); }
                  } counted{unwound};
                  co_await coronet::call_blocking(
                      io_op::other, "compute",
                      [&] {
                          if (started.fetch_add(1) == 0) first_in.open();
                          auto give_up = std::chrono::steady_clock::now() + 20s;
                          while (!release.load() && std::chrono::steady_clock::now() < give_up) {
                          }
                      },
                      [&]() noexcept { release = true; });  // its caller was terminated
              }).detach();
        ASSERT_TRUE(first_in.wait());  // one runs, three wait for its slot
        rt.stop();  // terminates the callers: the running call is interrupted, the rest taken back
        EXPECT_TRUE(release.load());
    }
    EXPECT_EQ(unwound.load(), 4);
    EXPECT_GE(started.load(), 1);
}

TEST(CallBlockingTest, CallsThatWaitRunSideBySideBeyondTheCpuSlots) {
    coronet::runtime rt(one_cpu_slot());
    // Calls that sleep use next to no CPU: the key is not CPU-bound, or not
    // for long (a fresh pool thread's first call can be charged more).
    rt.sync_wait(calls_on_shard("wait", 16, [] { std::this_thread::sleep_for(1ms); }));
    EXPECT_FALSE(rt.sync_wait([]() -> task<bool> {
        co_return coronet::detail::this_dispatcher().key(io_op::other, "wait").cpu_bound();
    }()));
    std::atomic<int> entered{0};
    auto together =
        rt.spawn_on(0, [&entered]() -> task<int> {
              auto call = [&entered]() -> task<bool> {
                  co_return co_await coronet::call_blocking(io_op::other, "wait", [&entered] {
                      entered.fetch_add(1);
                      auto give_up = std::chrono::steady_clock::now() + 10s;
                      while (entered.load() < 3 && std::chrono::steady_clock::now() < give_up)
                          std::this_thread::sleep_for(100us);
                      return entered.load() >= 3;
                  });
              };
              auto x = coronet::spawn(call);
              auto y = coronet::spawn(call);
              auto z = coronet::spawn(call);
              co_return co_await x.join() + co_await y.join() + co_await z.join();
          }).wait();
    EXPECT_EQ(together, 3) << "calls that wait were held to the CPU slots";
}

}  // namespace
