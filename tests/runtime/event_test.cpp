#include <coronet_probes.hpp>
#include <coronet_test.hpp>

#include <atomic>
#include <chrono>
#include <latch>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using coronet::task;
using clock_type = std::chrono::steady_clock;

class EventTest : public coronet::testing::runtime_test {};

TEST_F(EventTest, StartsClearUnlessToldOtherwise) {
    coronet::event a;
    coronet::event b(true);
    EXPECT_FALSE(a.is_set());
    EXPECT_TRUE(b.is_set());
}

TEST_F(EventTest, SetWakesEveryWaiterOnBothShards) {
    constexpr int per_shard = 4;
    std::atomic<int> woken{0};
    auto r = rt_.spawn_on(0,
                          [&woken]() -> task<std::pair<int, int>> {
                              coronet::event ev;
                              auto waiter = [&ev, &woken]() -> task<void> {
                                  co_await ev.wait();
                                  ++woken;
                              };
                              std::vector<coronet::join_handle<void>> waiters;
                              for (int i = 0; i < per_shard; ++i)
                                  waiters.push_back(coronet::spawn(waiter));
                              co_await coronet::submit_to(1, [&]() -> task<void> {
                                  for (int i = 0; i < per_shard; ++i)
                                      waiters.push_back(coronet::spawn(waiter));
                                  co_await coronet::yield();  // they reach their wait meanwhile
                              });
                              co_await coronet::yield();
                              int before = woken.load();
                              ev.set();
                              for (auto& w : waiters) co_await w.join();
                              co_return std::pair{before, woken.load()};
                          })
                 .wait();
    EXPECT_EQ(r.first, 0);
    EXPECT_EQ(r.second, 2 * per_shard);
}

TEST_F(EventTest, SetFromAPlainThreadWakesTheWaiters) {
    coronet::event ev;
    std::latch waiting(2);
    auto a = rt_.spawn_on(0, [&]() -> task<unsigned> {
        waiting.count_down();
        co_await ev.wait();
        co_return coronet::this_shard();
    });
    auto b = rt_.spawn_on(1, [&]() -> task<unsigned> {
        waiting.count_down();
        co_await ev.wait();
        co_return coronet::this_shard();
    });
    waiting.wait();
    std::thread setter([&] { ev.set(); });
    setter.join();
    EXPECT_EQ(a.wait(), 0u);
    EXPECT_EQ(b.wait(), 1u);
}

TEST_F(EventTest, WaitingOnASetEventReturnsWithoutSuspending) {
    bool neighbour_ran_between = run([]() -> task<bool> {
        coronet::event ev(true);
        bool neighbour_ran = false;
        auto neighbour = coronet::spawn([&neighbour_ran]() -> task<void> {
            neighbour_ran = true;
            co_return;
        });
        co_await ev.wait();
        co_await ev.wait();
        bool between = neighbour_ran;
        co_await neighbour.join();
        co_return between;
    }());
    EXPECT_FALSE(neighbour_ran_between);
}

TEST_F(EventTest, StaysSetForLaterWaitersUntilCleared) {
    EXPECT_TRUE(run([]() -> task<bool> {
        coronet::event ev;
        ev.set();
        bool all = true;
        for (int i = 0; i < 3; ++i) {
            bool set = co_await ev.wait(10s);
            all = all && set;
        }
        co_return all&& ev.is_set();
    }()));
}

TEST_F(EventTest, ClearMakesLaterWaitsSuspendAgain) {
    auto [cleared, first, second] = run([]() -> task<std::tuple<bool, bool, bool>> {
        coronet::event ev;
        ev.set();
        ev.clear();
        bool cleared = !ev.is_set();
        bool first = co_await ev.wait(10ms);
        auto setter = coronet::spawn([&ev]() -> task<void> {
            ev.set();
            co_return;
        });
        bool second = co_await ev.wait(10s);
        co_await setter.join();
        co_return std::tuple{cleared, first, second};
    }());
    EXPECT_TRUE(cleared);
    EXPECT_FALSE(first) << "a wait after clear() returned without a set()";
    EXPECT_TRUE(second);
}

TEST_F(EventTest, ClearAfterSetStillWakesTheWaitersOfThatSet) {
    EXPECT_TRUE(run([]() -> task<bool> {
        coronet::event ev;
        auto waiter = coronet::spawn_on(1 - coronet::this_shard(),
                                        [&ev]() -> task<bool> { co_return co_await ev.wait(10s); });
        co_await coronet::submit_to(1 - coronet::this_shard(), [] {});  // it waits by now
        ev.set();
        ev.clear();
        co_return co_await waiter.join();
    }()));
}

TEST_F(EventTest, TimedWaitIsFalseWhenTheEventIsNotSetInTime) {
    auto [set, took] = run([]() -> task<std::pair<bool, clock_type::duration>> {
        coronet::event ev;
        auto t0 = clock_type::now();
        bool set = co_await ev.wait(20ms);
        co_return std::pair{set, clock_type::now() - t0};
    }());
    EXPECT_FALSE(set);
    EXPECT_GE(took, 20ms);
}

TEST_F(EventTest, TimedWaitIsTrueWhenTheEventIsSetInTime) {
    EXPECT_TRUE(run([]() -> task<bool> {
        coronet::event ev;
        auto setter = coronet::spawn_on(1 - coronet::this_shard(), [&ev]() -> task<void> {
            co_await coronet::sleep(1ms);
            ev.set();
        });
        bool set = co_await ev.wait(10s);
        co_await setter.join();
        co_return set;
    }()));
}

TEST_F(EventTest, ATimedOutWaiterLeavesTheQueue) {
    EXPECT_TRUE(run([]() -> task<bool> {
        coronet::event ev;
        bool timed_out = !co_await ev.wait(5ms);
        auto later = coronet::spawn_on(1 - coronet::this_shard(),
                                       [&ev]() -> task<bool> { co_return co_await ev.wait(10s); });
        co_await coronet::submit_to(1 - coronet::this_shard(), [] {});
        ev.set();  // wakes `later` only: the timed-out waiter's frame is gone
        bool woken = co_await later.join();
        co_return timed_out&& woken;
    }()));
}

TEST_F(EventTest, PingPongAcrossShardsStress) {
    const int volleys = coronet::testing::rounds(20'000, 2'000);
    coronet::event ping;
    coronet::event pong;
    auto a = rt_.spawn_on(0, [&]() -> task<int> {
        int n = 0;
        for (int i = 0; i < volleys; ++i) {
            ping.set();
            co_await pong.wait();
            pong.clear();
            ++n;
        }
        co_return n;
    });
    auto b = rt_.spawn_on(1, [&]() -> task<int> {
        int n = 0;
        for (int i = 0; i < volleys; ++i) {
            co_await ping.wait();
            ping.clear();
            pong.set();
            ++n;
        }
        co_return n;
    });
    EXPECT_EQ(a.wait(), volleys);
    EXPECT_EQ(b.wait(), volleys);
}

TEST_F(EventTest, SetRacingTerminationStress) {
    const int rounds = coronet::testing::rounds(300, 40);
    constexpr int waiters = 8;
    for (int round = 0; round < rounds; ++round) {
        coronet::event ev;
        std::latch waiting(waiters);
        std::vector<coronet::join_handle<void>> handles;
        for (int i = 0; i < waiters; ++i) {
            handles.push_back(rt_.spawn_on(i % 2, [&]() -> task<void> {
                waiting.count_down();
                co_await ev.wait();
            }));
        }
        waiting.wait();
        std::thread setter([&] { ev.set(); });
        for (int i = 1; i < waiters; i += 2) handles[i].terminate();
        setter.join();
        int woken = 0;
        int terminated = 0;
        for (int i = 0; i < waiters; ++i) {
            try {
                handles[i].wait();
                ++woken;
            } catch (const coronet::terminated&) {
                ++terminated;
                EXPECT_EQ(i % 2, 1) << "a waiter nobody terminated was terminated";
            }
        }
        EXPECT_EQ(woken + terminated, waiters);
        EXPECT_GE(woken, waiters / 2);
    }
}

}  // namespace
