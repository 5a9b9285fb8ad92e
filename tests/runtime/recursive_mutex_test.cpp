#include <coronet_test.hpp>

#include "sync_test_support.hpp"

#include <chrono>
#include <functional>
#include <system_error>
#include <vector>

namespace {

using namespace std::chrono_literals;
using coronet::join_handle;
using coronet::task;
using coronet::testing::jitter;
using coronet::testing::other_shard;
using coronet::testing::settle;
using coronet::testing::stress_count;

class RecursiveMutexTest : public coronet::testing::runtime_test {};

/// A coroutine that takes `m` twice, appends `id` to `order` and lets go.
task<void> take_in_turn(coronet::recursive_mutex& m, std::vector<int>& order, int id) {
    co_await m.lock();
    co_await m.lock();
    order.push_back(id);
    m.unlock();
    m.unlock();
}

/// Whether another coroutine, on shard `shard`, could take `m` right now.
task<bool> free_for_others(coronet::recursive_mutex& m, unsigned shard) {
    auto probe = coronet::spawn_on(shard, [&m]() -> task<bool> {
        bool taken = m.try_lock();
        if (taken) m.unlock();
        co_return taken;
    });
    co_return co_await probe.join();
}

TEST_F(RecursiveMutexTest, TheOwnerLocksAgainWithoutWaiting) {
    run([]() -> task<void> {
        coronet::recursive_mutex m;
        co_await m.lock();
        {
            auto guard = co_await m.scoped_lock();
            EXPECT_TRUE(guard.owns_lock());
            EXPECT_TRUE(m.try_lock());
            m.unlock();
        }
        bool again = co_await m.lock(10ms);
        EXPECT_TRUE(again);
        m.unlock();
        bool free = co_await free_for_others(m, other_shard());
        EXPECT_FALSE(free) << "one level is still held";
        m.unlock();
        free = co_await free_for_others(m, other_shard());
        EXPECT_TRUE(free);
    }());
}

TEST_F(RecursiveMutexTest, TasksAwaitedByTheOwnerShareItsOwnership) {
    run([]() -> task<void> {
        coronet::recursive_mutex m;
        auto nested = [&](int depth, auto& self) -> task<int> {
            auto guard = co_await m.scoped_lock();
            if (depth == 0) co_return 0;
            co_return 1 + co_await self(depth - 1, self);
        };
        int levels = co_await nested(5, nested);
        EXPECT_EQ(levels, 5);
        bool free = co_await free_for_others(m, other_shard());
        EXPECT_TRUE(free);
    }());
}

TEST_F(RecursiveMutexTest, OthersWaitForTheLastUnlock) {
    run([]() -> task<void> {
        coronet::recursive_mutex m;
        std::vector<int> order;
        co_await m.lock();
        co_await m.lock();
        unsigned there = other_shard();
        auto waiter = coronet::spawn_on(there, take_in_turn, std::ref(m), std::ref(order), 1);
        co_await settle(there);
        m.unlock();
        co_await settle(there);
        EXPECT_FALSE(waiter.done());
        bool free = co_await free_for_others(m, there);
        EXPECT_FALSE(free);
        m.unlock();
        co_await waiter.join();
        EXPECT_EQ(order, std::vector<int>{1});
        free = co_await free_for_others(m, there);
        EXPECT_TRUE(free);
    }());
}

TEST_F(RecursiveMutexTest, UnlockHandsOwnershipToTheFirstWaiter) {
    run([]() -> task<void> {
        coronet::recursive_mutex m;
        std::vector<int> order;
        co_await m.lock();
        std::vector<join_handle<void>> waiters;
        for (int i = 0; i < 6; ++i) {
            unsigned shard = static_cast<unsigned>(i % 2);
            waiters.push_back(
                coronet::spawn_on(shard, take_in_turn, std::ref(m), std::ref(order), i));
            co_await settle(shard);
        }
        m.unlock();
        EXPECT_FALSE(m.try_lock()) << "the mutex went to the first waiter, not to a later caller";
        for (auto& w : waiters) co_await w.join();
        EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5}));
    }());
}

TEST_F(RecursiveMutexTest, LockWithTimeoutFailsWhileAnotherOwnsIt) {
    run([]() -> task<void> {
        coronet::recursive_mutex m;
        co_await m.lock();
        auto waiter = coronet::spawn_on(other_shard(),
                                        [&]() -> task<bool> { co_return co_await m.lock(20ms); });
        bool locked = co_await waiter.join();
        EXPECT_FALSE(locked);
        m.unlock();
        bool free = co_await free_for_others(m, other_shard());
        EXPECT_TRUE(free);
    }());
}

TEST_F(RecursiveMutexTest, ScopedLockWithTimeoutSucceedsWhenReleasedInTime) {
    run([]() -> task<void> {
        coronet::recursive_mutex m;
        co_await m.lock();
        auto waiter = coronet::spawn_on(other_shard(), [&]() -> task<bool> {
            auto guard = co_await m.scoped_lock(60s);
            co_return guard.has_value();
        });
        co_await settle(other_shard());
        m.unlock();
        bool locked = co_await waiter.join();
        EXPECT_TRUE(locked);
        bool free = co_await free_for_others(m, other_shard());
        EXPECT_TRUE(free);
    }());
}

TEST_F(RecursiveMutexTest, TimedOutWaiterLeavesTheQueue) {
    run([]() -> task<void> {
        coronet::recursive_mutex m;
        std::vector<int> order;
        co_await m.lock();
        unsigned there = other_shard();
        auto timed =
            coronet::spawn_on(there, [&]() -> task<bool> { co_return co_await m.lock(20ms); });
        co_await settle(there);
        auto next = coronet::spawn_on(there, take_in_turn, std::ref(m), std::ref(order), 2);
        co_await settle(there);

        bool timed_locked = co_await timed.join();
        EXPECT_FALSE(timed_locked);
        m.unlock();
        co_await next.join();
        EXPECT_EQ(order, std::vector<int>{2});
    }());
}

TEST_F(RecursiveMutexTest, TerminatedWaiterLeavesTheQueue) {
    run([]() -> task<void> {
        coronet::recursive_mutex m;
        std::vector<int> order;
        co_await m.lock();
        unsigned there = other_shard();
        auto doomed = coronet::spawn_on(there, take_in_turn, std::ref(m), std::ref(order), 1);
        co_await settle(there);
        auto next = coronet::spawn_on(there, take_in_turn, std::ref(m), std::ref(order), 2);
        co_await settle(there);

        doomed.terminate();
        EXPECT_THROW(co_await doomed.join(), coronet::terminated);
        m.unlock();
        co_await next.join();
        EXPECT_EQ(order, std::vector<int>{2});
        bool free = co_await free_for_others(m, there);
        EXPECT_TRUE(free);
    }());
}

TEST_F(RecursiveMutexTest, TerminationRacingWithUnlockNeverLeaksTheMutex) {
    run([]() -> task<void> {
        coronet::recursive_mutex m;
        unsigned there = other_shard();
        const int rounds = stress_count(2'000);
        for (int i = 0; i < rounds; ++i) {
            co_await m.lock();
            auto waiter = coronet::spawn_on(there, [&]() -> task<void> {
                auto guard = co_await m.scoped_lock();
                co_await coronet::yield();  // if it got the mutex, it unwinds from here
            });
            co_await settle(there);
            waiter.terminate();  // its cancellation runs on its shard, racing the unlock
            jitter(i % 64 * 4);
            m.unlock();
            EXPECT_THROW(co_await waiter.join(), coronet::terminated);
            bool free = co_await free_for_others(m, there);
            EXPECT_TRUE(free) << "round " << i;
        }
    }());
}

TEST_F(RecursiveMutexTest, TryLockOutsideACoroutineThrows) {
    coronet::recursive_mutex m;
    EXPECT_THROW(m.try_lock(), std::system_error);
}

TEST_F(RecursiveMutexTest, StressCountsEveryIncrementFromBothShards) {
    const int workers = 8;
    const int iterations = stress_count(20'000);
    long counter = 0;  // guarded by m, deliberately not atomic
    coronet::recursive_mutex m;
    run([&]() -> task<void> {
        std::vector<join_handle<void>> all;
        for (int w = 0; w < workers; ++w) {
            all.push_back(coronet::spawn_on(static_cast<unsigned>(w % 2), [&]() -> task<void> {
                for (int i = 0; i < iterations; ++i) {
                    auto outer = co_await m.scoped_lock();
                    long seen = counter;
                    if (i % 64 == 0) co_await coronet::yield();  // let others queue up
                    auto inner = co_await m.scoped_lock();
                    counter = seen + 1;
                }
            }));
        }
        for (auto& h : all) co_await h.join();
    }());
    EXPECT_EQ(counter, static_cast<long>(workers) * iterations);
}

}  // namespace
