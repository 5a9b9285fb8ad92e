#include <coronet_test.hpp>

#include "sync_test_support.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;
using coronet::join_handle;
using coronet::task;
using coronet::testing::jitter;
using coronet::testing::other_shard;
using coronet::testing::settle;
using coronet::testing::stress_count;

class MutexTest : public coronet::testing::runtime_test {};

/// A coroutine that takes `m`, appends `id` to `order` and lets go.
task<void> take_in_turn(coronet::mutex& m, std::vector<int>& order, int id) {
    co_await m.lock();
    order.push_back(id);
    m.unlock();
}

TEST_F(MutexTest, TryLockFailsWhileHeld) {
    run([]() -> task<void> {
        coronet::mutex m;
        EXPECT_TRUE(m.try_lock());
        EXPECT_FALSE(m.try_lock());
        m.unlock();
        EXPECT_TRUE(m.try_lock());
        m.unlock();
        co_return;
    }());
}

TEST_F(MutexTest, LockReturnsAtOnceWhenFree) {
    run([]() -> task<void> {
        coronet::mutex m;
        co_await m.lock();
        EXPECT_FALSE(m.try_lock());
        m.unlock();
        EXPECT_TRUE(m.try_lock());
        m.unlock();
    }());
}

TEST_F(MutexTest, UnlockHandsOwnershipToTheFirstWaiter) {
    run([]() -> task<void> {
        coronet::mutex m;
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
        EXPECT_TRUE(m.try_lock());
        m.unlock();
    }());
}

TEST_F(MutexTest, ScopedLockUnlocksWhenTheGuardGoesAway) {
    run([]() -> task<void> {
        coronet::mutex m;
        {
            auto guard = co_await m.scoped_lock();
            EXPECT_TRUE(guard.owns_lock());
            EXPECT_FALSE(m.try_lock());
        }
        EXPECT_TRUE(m.try_lock());
        m.unlock();
    }());
}

TEST_F(MutexTest, GuardCanBeMovedAndUnlockedEarly) {
    run([]() -> task<void> {
        coronet::mutex m;
        auto first = co_await m.scoped_lock();
        coronet::mutex::guard second = std::move(first);
        EXPECT_FALSE(first.owns_lock());
        EXPECT_TRUE(second.owns_lock());
        EXPECT_FALSE(m.try_lock());
        second.unlock();
        EXPECT_FALSE(second);
        EXPECT_TRUE(m.try_lock());
        m.unlock();
    }());
}

TEST_F(MutexTest, ScopedLockUnlocksWhenAnExceptionUnwinds) {
    coronet::mutex m;
    auto failing = [&]() -> task<void> {
        auto guard = co_await m.scoped_lock();
        throw std::runtime_error("failed while holding the mutex");
    };
    EXPECT_THROW(run(failing()), std::runtime_error);
    EXPECT_TRUE(m.try_lock());
    m.unlock();
}

TEST_F(MutexTest, LockWithTimeoutFailsWhileHeld) {
    run([]() -> task<void> {
        coronet::mutex m;
        co_await m.lock();
        auto waiter = coronet::spawn_on(other_shard(),
                                        [&]() -> task<bool> { co_return co_await m.lock(20ms); });
        bool locked = co_await waiter.join();
        EXPECT_FALSE(locked);
        m.unlock();
        EXPECT_TRUE(m.try_lock());
        m.unlock();
    }());
}

TEST_F(MutexTest, LockWithTimeoutSucceedsWhenUnlockedInTime) {
    run([]() -> task<void> {
        coronet::mutex m;
        co_await m.lock();
        auto waiter = coronet::spawn_on(other_shard(), [&]() -> task<bool> {
            bool locked = co_await m.lock(60s);
            if (locked) m.unlock();
            co_return locked;
        });
        co_await settle(other_shard());
        m.unlock();
        bool locked = co_await waiter.join();
        EXPECT_TRUE(locked);
    }());
}

TEST_F(MutexTest, ScopedLockWithTimeoutReturnsAGuardOrNothing) {
    run([]() -> task<void> {
        coronet::mutex m;
        {
            std::optional<coronet::mutex::guard> guard = co_await m.scoped_lock(1s);
            EXPECT_TRUE(guard && guard->owns_lock());
            auto other = coronet::spawn_on(other_shard(), [&]() -> task<bool> {
                auto g = co_await m.scoped_lock(20ms);
                co_return g.has_value();
            });
            bool other_locked = co_await other.join();
            EXPECT_FALSE(other_locked);
        }
        EXPECT_TRUE(m.try_lock());
        m.unlock();
    }());
}

TEST_F(MutexTest, TimedOutWaiterLeavesTheQueue) {
    run([]() -> task<void> {
        coronet::mutex m;
        std::vector<int> order;
        co_await m.lock();
        unsigned there = other_shard();
        auto first = coronet::spawn_on(there, take_in_turn, std::ref(m), std::ref(order), 1);
        co_await settle(there);
        auto timed =
            coronet::spawn_on(there, [&]() -> task<bool> { co_return co_await m.lock(20ms); });
        co_await settle(there);
        auto last = coronet::spawn_on(there, take_in_turn, std::ref(m), std::ref(order), 3);
        co_await settle(there);

        bool timed_locked = co_await timed.join();
        EXPECT_FALSE(timed_locked);
        m.unlock();
        co_await first.join();
        co_await last.join();
        EXPECT_EQ(order, (std::vector<int>{1, 3}));
        EXPECT_TRUE(m.try_lock());
        m.unlock();
    }());
}

TEST_F(MutexTest, TerminatedWaiterLeavesTheQueue) {
    run([]() -> task<void> {
        coronet::mutex m;
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
        EXPECT_TRUE(m.try_lock());
        m.unlock();
    }());
}

TEST_F(MutexTest, WaiterTerminatedAfterTheHandOverKeepsTheLockUntilItUnwinds) {
    run([]() -> task<void> {
        coronet::mutex m;
        bool got_it = false;
        co_await m.lock();
        auto waiter = coronet::spawn([&]() -> task<void> {
            auto guard = co_await m.scoped_lock();
            got_it = true;
            co_await coronet::yield();  // the termination is thrown here
            ADD_FAILURE() << "a terminated coroutine went on past a suspension point";
        });
        co_await coronet::yield();  // the waiter queues
        m.unlock();                 // hands the mutex to the waiter, which is not yet running
        waiter.terminate();         // too late to take it back
        EXPECT_THROW(co_await waiter.join(), coronet::terminated);
        EXPECT_TRUE(got_it);
        EXPECT_TRUE(m.try_lock()) << "the guard unlocked as the waiter unwound";
        m.unlock();
    }());
}

TEST_F(MutexTest, TerminationRacingWithUnlockNeverLeaksTheMutex) {
    run([]() -> task<void> {
        coronet::mutex m;
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
            EXPECT_TRUE(m.try_lock()) << "round " << i;
            m.unlock();
        }
    }());
}

TEST_F(MutexTest, AnyShardMayUnlockWhatAnotherLocked) {
    run([]() -> task<void> {
        coronet::mutex m;
        co_await m.lock();
        auto waiter = coronet::spawn([&]() -> task<void> {
            co_await m.lock();
            m.unlock();
        });
        co_await coronet::yield();
        co_await coronet::submit_to(other_shard(), [&] { m.unlock(); });
        co_await waiter.join();
        EXPECT_TRUE(m.try_lock());
        m.unlock();
    }());
}

TEST_F(MutexTest, StressCountsEveryIncrementFromBothShards) {
    const int workers = 8;
    const int iterations = stress_count(100'000);
    long counter = 0;  // guarded by m, deliberately not atomic
    coronet::mutex m;
    run([&]() -> task<void> {
        std::vector<join_handle<void>> all;
        for (int w = 0; w < workers; ++w) {
            all.push_back(coronet::spawn_on(static_cast<unsigned>(w % 2), [&]() -> task<void> {
                for (int i = 0; i < iterations; ++i) {
                    auto guard = co_await m.scoped_lock();
                    long seen = counter;
                    if (i % 64 == 0) co_await coronet::yield();  // let others queue up
                    counter = seen + 1;
                }
            }));
        }
        for (auto& h : all) co_await h.join();
    }());
    EXPECT_EQ(counter, static_cast<long>(workers) * iterations);
    EXPECT_TRUE(m.try_lock());
    m.unlock();
}

}  // namespace
