#include <coronet_test.hpp>

#include "sync_test_support.hpp"

#include <chrono>
#include <deque>
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

class ConditionVariableTest : public coronet::testing::runtime_test {};

/// Records, when destroyed, whether `m` was held then (by anyone).
class held_probe {
public:
    held_probe(coronet::mutex& m, bool& held) : m_(m), held_(held) {}
    held_probe(const held_probe&) = delete;
    held_probe& operator=(const held_probe&) = delete;
    ~held_probe() {
        held_ = !m_.try_lock();
        if (!held_) m_.unlock();
    }

private:
    coronet::mutex& m_;
    bool& held_;
};

/// A coroutine that waits once for a notification, then appends `id` to
/// `order` with the mutex held.
task<void> wait_once(coronet::condition_variable& cv, coronet::mutex& m, std::vector<int>& order,
                     int id) {
    auto guard = co_await m.scoped_lock();
    co_await cv.wait(m);
    order.push_back(id);
}

/// Takes `m`, which must be free; `try_lock` is how the tests check that it is.
task<void> lock_free_mutex(coronet::mutex& m) {
    bool taken = m.try_lock();
    EXPECT_TRUE(taken) << "the mutex should have been free";
    if (!taken) co_await m.lock();
}

TEST_F(ConditionVariableTest, WaitReleasesTheMutexAndTakesItBackBeforeReturning) {
    run([]() -> task<void> {
        coronet::mutex m;
        coronet::condition_variable cv;
        bool ready = false;
        bool held_after = false;
        unsigned there = other_shard();
        auto waiter = coronet::spawn_on(there, [&]() -> task<void> {
            auto guard = co_await m.scoped_lock();
            while (!ready) co_await cv.wait(m);
            held_after = !m.try_lock();
        });
        co_await settle(there);
        co_await lock_free_mutex(m);  // the waiter let go of it
        ready = true;
        cv.notify_one();  // the waiter now queues for the mutex
        m.unlock();
        co_await waiter.join();
        EXPECT_TRUE(held_after);
        EXPECT_TRUE(m.try_lock());
        m.unlock();
    }());
}

TEST_F(ConditionVariableTest, NotifyOneWakesWaitersInFifoOrder) {
    run([]() -> task<void> {
        coronet::mutex m;
        coronet::condition_variable cv;
        std::vector<int> order;
        std::vector<join_handle<void>> waiters;
        for (int i = 0; i < 6; ++i) {
            unsigned shard = static_cast<unsigned>(i % 2);
            waiters.push_back(
                coronet::spawn_on(shard, wait_once, std::ref(cv), std::ref(m), std::ref(order), i));
            co_await settle(shard);
        }
        co_await m.lock();
        for (int i = 0; i < 6; ++i) cv.notify_one();  // each moves to the mutex's queue
        m.unlock();
        for (auto& w : waiters) co_await w.join();
        EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5}));
    }());
}

TEST_F(ConditionVariableTest, NotifyAllWakesEveryWaiterInFifoOrder) {
    run([]() -> task<void> {
        coronet::mutex m;
        coronet::condition_variable cv;
        std::vector<int> order;
        std::vector<join_handle<void>> waiters;
        for (int i = 0; i < 6; ++i) {
            unsigned shard = static_cast<unsigned>(i % 2);
            waiters.push_back(
                coronet::spawn_on(shard, wait_once, std::ref(cv), std::ref(m), std::ref(order), i));
            co_await settle(shard);
        }
        co_await m.lock();
        cv.notify_all();
        m.unlock();
        for (auto& w : waiters) co_await w.join();
        EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5}));
    }());
}

TEST_F(ConditionVariableTest, NotifiedWaiterTakesItsTurnInTheMutexQueue) {
    run([]() -> task<void> {
        coronet::mutex m;
        coronet::condition_variable cv;
        std::vector<int> order;
        unsigned there = other_shard();
        auto waiter =
            coronet::spawn_on(there, wait_once, std::ref(cv), std::ref(m), std::ref(order), 1);
        co_await settle(there);
        co_await lock_free_mutex(m);
        auto locker = coronet::spawn_on(there, [&]() -> task<void> {
            auto guard = co_await m.scoped_lock();
            order.push_back(2);
        });
        co_await settle(there);
        cv.notify_one();  // the waiter queues behind the locker
        m.unlock();
        co_await waiter.join();
        co_await locker.join();
        EXPECT_EQ(order, (std::vector<int>{2, 1}));
    }());
}

TEST_F(ConditionVariableTest, NotifyWithoutWaitersDoesNothing) {
    run([]() -> task<void> {
        coronet::mutex m;
        coronet::condition_variable cv;
        cv.notify_one();
        cv.notify_all();
        EXPECT_TRUE(m.try_lock());
        m.unlock();
        co_return;
    }());
}

TEST_F(ConditionVariableTest, WaitWithPredicateReturnsAtOnceWhenItHolds) {
    run([]() -> task<void> {
        coronet::mutex m;
        coronet::condition_variable cv;
        auto guard = co_await m.scoped_lock();
        co_await cv.wait(m, [] { return true; });
        EXPECT_FALSE(m.try_lock());
    }());
}

TEST_F(ConditionVariableTest, WaitWithPredicateKeepsWaitingWhileItIsFalse) {
    run([]() -> task<void> {
        coronet::mutex m;
        coronet::condition_variable cv;
        int value = 0;
        int tests = 0;  // guarded by m
        unsigned there = other_shard();
        auto waiter = coronet::spawn_on(there, [&]() -> task<void> {
            auto guard = co_await m.scoped_lock();
            co_await cv.wait(m, [&] {
                ++tests;
                return value == 2;
            });
        });
        co_await settle(there);
        co_await m.lock();
        value = 1;
        cv.notify_one();
        m.unlock();  // hands the mutex to the waiter, which tests again and waits again
        co_await settle(there);
        EXPECT_FALSE(waiter.done());

        co_await lock_free_mutex(m);
        EXPECT_EQ(tests, 2);
        value = 2;
        m.unlock();
        cv.notify_one();  // notifying without the mutex is allowed
        co_await waiter.join();
        EXPECT_EQ(tests, 3);
    }());
}

TEST_F(ConditionVariableTest, WaitWithTimeoutReturnsFalseWithTheMutexHeld) {
    run([]() -> task<void> {
        coronet::mutex m;
        coronet::condition_variable cv;
        auto guard = co_await m.scoped_lock();
        bool notified = co_await cv.wait(m, 20ms);
        EXPECT_FALSE(notified);
        EXPECT_FALSE(m.try_lock());
    }());
}

TEST_F(ConditionVariableTest, WaitWithTimeoutReturnsTrueWhenNotified) {
    run([]() -> task<void> {
        coronet::mutex m;
        coronet::condition_variable cv;
        unsigned there = other_shard();
        auto waiter = coronet::spawn_on(there, [&]() -> task<bool> {
            auto guard = co_await m.scoped_lock();
            bool notified = co_await cv.wait(m, 60s);
            EXPECT_FALSE(m.try_lock());
            co_return notified;
        });
        co_await settle(there);
        cv.notify_one();
        bool notified = co_await waiter.join();
        EXPECT_TRUE(notified);
    }());
}

TEST_F(ConditionVariableTest, WaitWithTimeoutAndPredicateReturnsTheLastTest) {
    run([]() -> task<void> {
        coronet::mutex m;
        coronet::condition_variable cv;
        bool ready = false;
        {
            auto guard = co_await m.scoped_lock();
            bool result = co_await cv.wait(m, 20ms, [&] { return ready; });
            EXPECT_FALSE(result);
            EXPECT_FALSE(m.try_lock());
        }
        unsigned there = other_shard();
        auto waiter = coronet::spawn_on(there, [&]() -> task<bool> {
            auto guard = co_await m.scoped_lock();
            co_return co_await cv.wait(m, 60s, [&] { return ready; });
        });
        co_await settle(there);
        co_await lock_free_mutex(m);
        ready = true;
        m.unlock();
        cv.notify_all();
        bool result = co_await waiter.join();
        EXPECT_TRUE(result);
    }());
}

TEST_F(ConditionVariableTest, TimedOutWaiterLeavesTheQueue) {
    run([]() -> task<void> {
        coronet::mutex m;
        coronet::condition_variable cv;
        std::vector<int> order;
        unsigned there = other_shard();
        auto timed = coronet::spawn_on(there, [&]() -> task<bool> {
            auto guard = co_await m.scoped_lock();
            co_return co_await cv.wait(m, 20ms);
        });
        co_await settle(there);
        auto next =
            coronet::spawn_on(there, wait_once, std::ref(cv), std::ref(m), std::ref(order), 2);
        co_await settle(there);

        bool notified = co_await timed.join();
        EXPECT_FALSE(notified);
        cv.notify_one();
        co_await next.join();
        EXPECT_EQ(order, std::vector<int>{2});
    }());
}

TEST_F(ConditionVariableTest, TimedOutWaiterWaitsForTheMutexBeforeReturning) {
    run([]() -> task<void> {
        coronet::mutex m;
        coronet::condition_variable cv;
        bool held_after = false;
        unsigned there = other_shard();
        auto waiter = coronet::spawn_on(there, [&]() -> task<bool> {
            auto guard = co_await m.scoped_lock();
            bool notified = co_await cv.wait(m, 20ms);
            held_after = !m.try_lock();
            co_return notified;
        });
        co_await settle(there);
        co_await lock_free_mutex(m);
        co_await coronet::sleep(60ms);  // the waiter's deadline passes while the mutex is held
        EXPECT_FALSE(waiter.done());
        m.unlock();
        bool notified = co_await waiter.join();
        EXPECT_FALSE(notified);
        EXPECT_TRUE(held_after);
    }());
}

TEST_F(ConditionVariableTest, WaiterNotifiedBeforeItsDeadlineReportsTheNotification) {
    run([]() -> task<void> {
        coronet::mutex m;
        coronet::condition_variable cv;
        unsigned there = other_shard();
        auto waiter = coronet::spawn_on(there, [&]() -> task<bool> {
            auto guard = co_await m.scoped_lock();
            co_return co_await cv.wait(m, 20ms);
        });
        co_await settle(there);
        co_await lock_free_mutex(m);
        cv.notify_one();
        co_await coronet::sleep(60ms);  // the deadline passes while it waits for the mutex
        m.unlock();
        bool notified = co_await waiter.join();
        EXPECT_TRUE(notified);
    }());
}

TEST_F(ConditionVariableTest, TerminatedWaiterTakesTheMutexBackBeforeUnwinding) {
    run([]() -> task<void> {
        coronet::mutex m;
        coronet::condition_variable cv;
        bool held_while_unwinding = false;
        unsigned there = other_shard();
        auto waiter = coronet::spawn_on(there, [&]() -> task<void> {
            auto guard = co_await m.scoped_lock();
            held_probe probe(m, held_while_unwinding);
            co_await cv.wait(m);
            ADD_FAILURE() << "a terminated waiter returned from wait";
        });
        co_await settle(there);
        co_await lock_free_mutex(m);
        waiter.terminate();
        co_await settle(there);  // its cancellation has run: it now waits for the mutex
        EXPECT_FALSE(waiter.done());
        m.unlock();
        EXPECT_THROW(co_await waiter.join(), coronet::terminated);
        EXPECT_TRUE(held_while_unwinding);
        EXPECT_TRUE(m.try_lock()) << "the waiter's guard unlocked it";
        m.unlock();
    }());
}

TEST_F(ConditionVariableTest, TerminatedWaiterLeavesTheQueue) {
    run([]() -> task<void> {
        coronet::mutex m;
        coronet::condition_variable cv;
        std::vector<int> order;
        unsigned there = other_shard();
        auto doomed =
            coronet::spawn_on(there, wait_once, std::ref(cv), std::ref(m), std::ref(order), 1);
        co_await settle(there);
        auto next =
            coronet::spawn_on(there, wait_once, std::ref(cv), std::ref(m), std::ref(order), 2);
        co_await settle(there);

        doomed.terminate();
        EXPECT_THROW(co_await doomed.join(), coronet::terminated);
        cv.notify_one();
        co_await next.join();
        EXPECT_EQ(order, std::vector<int>{2});
        EXPECT_TRUE(m.try_lock());
        m.unlock();
    }());
}

TEST_F(ConditionVariableTest, WaitOfATerminatedCoroutineThrowsWithoutReleasingTheMutex) {
    run([]() -> task<void> {
        coronet::mutex m;
        coronet::condition_variable cv;
        coronet::event never;
        bool held_while_unwinding = false;
        auto waiter = coronet::spawn([&]() -> task<void> {
            auto guard = co_await m.scoped_lock();
            held_probe probe(m, held_while_unwinding);
            try {
                co_await never.wait();
            } catch (const coronet::terminated&) {
            }
            co_await cv.wait(m);  // the termination is still pending: throws at once
            ADD_FAILURE() << "a terminated coroutine waited";
        });
        co_await coronet::yield();  // the waiter runs up to never.wait()
        waiter.terminate();
        EXPECT_THROW(co_await waiter.join(), coronet::terminated);
        EXPECT_TRUE(held_while_unwinding);
        EXPECT_TRUE(m.try_lock());
        m.unlock();
    }());
}

TEST_F(ConditionVariableTest, TerminationRacingWithNotifyNeverLeaksTheMutex) {
    run([]() -> task<void> {
        coronet::mutex m;
        coronet::condition_variable cv;
        unsigned there = other_shard();
        const int rounds = stress_count(2'000);
        for (int i = 0; i < rounds; ++i) {
            auto waiter = coronet::spawn_on(there, [&]() -> task<void> {
                auto guard = co_await m.scoped_lock();
                co_await cv.wait(m);
                co_await coronet::yield();  // if it was notified, it unwinds from here
            });
            co_await settle(there);
            waiter.terminate();  // its cancellation runs on its shard, racing the notify
            jitter(i % 64 * 4);
            cv.notify_one();
            EXPECT_THROW(co_await waiter.join(), coronet::terminated);
            EXPECT_TRUE(m.try_lock()) << "round " << i;
            m.unlock();
        }
    }());
}

TEST_F(ConditionVariableTest, StressBoundedQueueAcrossShardsLosesNoWakeUp) {
    const int producers = 4;
    const int consumers = 4;
    const int per_producer = stress_count(50'000);
    const int per_consumer = producers * per_producer / consumers;
    const std::size_t capacity = 8;
    coronet::mutex m;
    coronet::condition_variable not_empty;
    coronet::condition_variable not_full;
    std::deque<long> queue;  // guarded by m
    long consumed = 0;       // guarded by m
    run([&]() -> task<void> {
        std::vector<join_handle<void>> all;
        for (int p = 0; p < producers; ++p) {
            all.push_back(coronet::spawn_on(static_cast<unsigned>(p % 2), [&]() -> task<void> {
                for (int i = 1; i <= per_producer; ++i) {
                    {
                        auto guard = co_await m.scoped_lock();
                        co_await not_full.wait(m, [&] { return queue.size() < capacity; });
                        queue.push_back(i);
                    }
                    not_empty.notify_one();
                }
            }));
        }
        for (int c = 0; c < consumers; ++c) {
            all.push_back(
                coronet::spawn_on(static_cast<unsigned>((c + 1) % 2), [&]() -> task<void> {
                    for (int i = 0; i < per_consumer; ++i) {
                        auto guard = co_await m.scoped_lock();
                        co_await not_empty.wait(m, [&] { return !queue.empty(); });
                        consumed += queue.front();
                        queue.pop_front();
                        guard.unlock();
                        not_full.notify_one();
                    }
                }));
        }
        for (auto& h : all) co_await h.join();
    }());
    EXPECT_TRUE(queue.empty());
    EXPECT_EQ(consumed, static_cast<long>(producers) * per_producer * (per_producer + 1) / 2);
}

TEST_F(ConditionVariableTest, StressTurnTakingAcrossShardsLosesNoWakeUp) {
    const int rounds = stress_count(100'000);
    coronet::mutex m;
    coronet::condition_variable turn_changed;
    int turn = 0;  // whose turn: 0 or 1; guarded by m
    int moves = 0;
    run([&]() -> task<void> {
        auto player = [&](int me) -> task<void> {
            for (int i = 0; i < rounds; ++i) {
                auto guard = co_await m.scoped_lock();
                co_await turn_changed.wait(m, [&] { return turn == me; });
                ++moves;
                turn = 1 - me;
                turn_changed.notify_one();
            }
        };
        auto first = coronet::spawn_on(0, player, 0);
        auto second = coronet::spawn_on(1, player, 1);
        co_await first.join();
        co_await second.join();
    }());
    EXPECT_EQ(moves, 2 * rounds);
}

}  // namespace
