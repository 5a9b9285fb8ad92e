#include <coronet_test.hpp>

#include "sync_test_support.hpp"

#include <atomic>
#include <chrono>
#include <functional>
#include <vector>

namespace {

using namespace std::chrono_literals;
using coronet::join_handle;
using coronet::task;
using coronet::testing::jitter;
using coronet::testing::other_shard;
using coronet::testing::settle;
using coronet::testing::stress_count;

class SemaphoreTest : public coronet::testing::runtime_test {};

/// A coroutine that takes a permit of `s` and appends `id` to `order`,
/// keeping the permit.
task<void> acquire_in_turn(coronet::semaphore& s, std::vector<int>& order, int id) {
    co_await s.acquire();
    order.push_back(id);
}

TEST_F(SemaphoreTest, AcquireTakesAPermitAndReleaseGivesItBack) {
    run([]() -> task<void> {
        coronet::semaphore s(2);
        EXPECT_EQ(s.available(), 2u);
        co_await s.acquire();
        co_await s.acquire();
        EXPECT_EQ(s.available(), 0u);
        s.release();
        EXPECT_EQ(s.available(), 1u);
        s.release(3);
        EXPECT_EQ(s.available(), 4u);
    }());
}

TEST_F(SemaphoreTest, TryAcquireFailsWithoutPermits) {
    coronet::semaphore s(1);
    EXPECT_TRUE(s.try_acquire());
    EXPECT_FALSE(s.try_acquire());
    s.release();
    EXPECT_TRUE(s.try_acquire());
    EXPECT_EQ(s.available(), 0u);
}

TEST_F(SemaphoreTest, ReleaseHandsPermitsToWaitersInFifoOrder) {
    run([]() -> task<void> {
        coronet::semaphore s(0);
        std::vector<int> order;  // written by one waiter at a time: each gets one permit
        std::vector<join_handle<void>> waiters;
        for (int i = 0; i < 6; ++i) {
            unsigned shard = static_cast<unsigned>(i % 2);
            waiters.push_back(
                coronet::spawn_on(shard, acquire_in_turn, std::ref(s), std::ref(order), i));
            co_await settle(shard);
        }
        for (int i = 0; i < 6; ++i) {
            s.release();
            co_await waiters[static_cast<std::size_t>(i)].join();
        }
        EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5}));
        EXPECT_EQ(s.available(), 0u);
    }());
}

TEST_F(SemaphoreTest, ReleasedPermitGoesToTheWaiterNotToALaterCaller) {
    run([]() -> task<void> {
        coronet::semaphore s(0);
        std::vector<int> order;
        auto waiter =
            coronet::spawn_on(other_shard(), acquire_in_turn, std::ref(s), std::ref(order), 1);
        co_await settle(other_shard());
        s.release();
        EXPECT_FALSE(s.try_acquire());
        EXPECT_EQ(s.available(), 0u);
        co_await waiter.join();
        EXPECT_EQ(order, std::vector<int>{1});
    }());
}

TEST_F(SemaphoreTest, ReleaseOfSeveralPermitsWakesSeveralWaiters) {
    run([]() -> task<void> {
        coronet::semaphore s(0);
        std::atomic<int> woken{0};
        std::vector<join_handle<void>> waiters;
        for (int i = 0; i < 3; ++i) {
            unsigned shard = static_cast<unsigned>(i % 2);
            waiters.push_back(coronet::spawn_on(shard, [&]() -> task<void> {
                co_await s.acquire();
                woken.fetch_add(1);
            }));
            co_await settle(shard);
        }
        s.release(5);
        for (auto& w : waiters) co_await w.join();
        EXPECT_EQ(woken.load(), 3);
        EXPECT_EQ(s.available(), 2u);
    }());
}

TEST_F(SemaphoreTest, AcquireWithTimeoutFailsWithoutPermits) {
    run([]() -> task<void> {
        coronet::semaphore s(0);
        bool acquired = co_await s.acquire(20ms);
        EXPECT_FALSE(acquired);
        EXPECT_EQ(s.available(), 0u);
    }());
}

TEST_F(SemaphoreTest, AcquireWithTimeoutSucceedsWhenReleasedInTime) {
    run([]() -> task<void> {
        coronet::semaphore s(0);
        auto waiter = coronet::spawn_on(other_shard(),
                                        [&]() -> task<bool> { co_return co_await s.acquire(60s); });
        co_await settle(other_shard());
        s.release();
        bool acquired = co_await waiter.join();
        EXPECT_TRUE(acquired);
        EXPECT_EQ(s.available(), 0u);
    }());
}

TEST_F(SemaphoreTest, TimedOutWaiterLeavesTheQueue) {
    run([]() -> task<void> {
        coronet::semaphore s(0);
        std::vector<int> order;
        unsigned there = other_shard();
        auto timed =
            coronet::spawn_on(there, [&]() -> task<bool> { co_return co_await s.acquire(20ms); });
        co_await settle(there);
        auto next = coronet::spawn_on(there, acquire_in_turn, std::ref(s), std::ref(order), 2);
        co_await settle(there);

        bool timed_acquired = co_await timed.join();
        EXPECT_FALSE(timed_acquired);
        s.release();
        co_await next.join();
        EXPECT_EQ(order, std::vector<int>{2});
        EXPECT_EQ(s.available(), 0u);
    }());
}

TEST_F(SemaphoreTest, TerminatedWaiterLeavesTheQueueAndTakesNoPermit) {
    run([]() -> task<void> {
        coronet::semaphore s(0);
        std::vector<int> order;
        unsigned there = other_shard();
        auto doomed = coronet::spawn_on(there, acquire_in_turn, std::ref(s), std::ref(order), 1);
        co_await settle(there);
        auto next = coronet::spawn_on(there, acquire_in_turn, std::ref(s), std::ref(order), 2);
        co_await settle(there);

        doomed.terminate();
        EXPECT_THROW(co_await doomed.join(), coronet::terminated);
        s.release(2);
        co_await next.join();
        EXPECT_EQ(order, std::vector<int>{2});
        EXPECT_EQ(s.available(), 1u) << "the terminated waiter took no permit";
    }());
}

TEST_F(SemaphoreTest, TerminationRacingWithReleaseLosesNoPermit) {
    run([]() -> task<void> {
        coronet::semaphore s(0);
        unsigned there = other_shard();
        const int rounds = stress_count(2'000);
        for (int i = 0; i < rounds; ++i) {
            bool got_it = false;
            auto waiter = coronet::spawn_on(there, [&]() -> task<void> {
                co_await s.acquire();
                got_it = true;              // keeps the permit
                co_await coronet::yield();  // and unwinds from here if terminated
            });
            co_await settle(there);
            waiter.terminate();  // its cancellation runs on its shard, racing the release
            jitter(i % 64 * 4);
            s.release();
            EXPECT_THROW(co_await waiter.join(), coronet::terminated);
            // The permit went to the waiter or stayed free: never both, never neither.
            bool left_free = s.try_acquire();
            EXPECT_NE(got_it, left_free) << "round " << i;
            EXPECT_EQ(s.available(), 0u) << "round " << i;
        }
    }());
}

TEST_F(SemaphoreTest, ReleaseFromOutsideTheRuntimeWakesAWaiter) {
    coronet::semaphore s(0);
    auto waiter = rt_.spawn([&]() -> task<void> { co_await s.acquire(); });
    s.release();  // from the test's own thread, before or after the waiter queues
    waiter.wait();
    EXPECT_EQ(s.available(), 0u);
}

TEST_F(SemaphoreTest, StressHandsOffPermitsAcrossShards) {
    const int workers = 8;
    const int iterations = stress_count(100'000);
    const std::size_t permits = 2;
    coronet::semaphore s(permits);
    std::atomic<int> inside{0};
    std::atomic<int> too_many{0};
    run([&]() -> task<void> {
        std::vector<join_handle<void>> all;
        for (int w = 0; w < workers; ++w) {
            all.push_back(coronet::spawn_on(static_cast<unsigned>(w % 2), [&]() -> task<void> {
                for (int i = 0; i < iterations; ++i) {
                    co_await s.acquire();
                    if (inside.fetch_add(1) >= static_cast<int>(permits)) too_many.fetch_add(1);
                    if (i % 64 == 0) co_await coronet::yield();  // let others queue up
                    inside.fetch_sub(1);
                    s.release();
                }
            }));
        }
        for (auto& h : all) co_await h.join();
    }());
    EXPECT_EQ(too_many.load(), 0);
    EXPECT_EQ(s.available(), permits);
}

TEST_F(SemaphoreTest, PingPongAcrossShardsLosesNoWakeUp) {
    const int rounds = stress_count(100'000);
    coronet::semaphore ping(0);
    coronet::semaphore pong(0);
    long sum = 0;  // handed back and forth with the permits, deliberately not atomic
    run([&]() -> task<void> {
        auto server = coronet::spawn_on(1, [&]() -> task<void> {
            for (int i = 0; i < rounds; ++i) {
                co_await ping.acquire();
                sum += 2;
                pong.release();
            }
        });
        auto client = coronet::spawn_on(0, [&]() -> task<void> {
            for (int i = 0; i < rounds; ++i) {
                sum -= 1;
                ping.release();
                co_await pong.acquire();
            }
        });
        co_await client.join();
        co_await server.join();
    }());
    EXPECT_EQ(sum, rounds);
    EXPECT_EQ(ping.available(), 0u);
    EXPECT_EQ(pong.available(), 0u);
}

}  // namespace
