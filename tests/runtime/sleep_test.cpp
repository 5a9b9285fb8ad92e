#include <coronet_probes.hpp>
#include <coronet_test.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <latch>
#include <vector>

namespace {

using namespace std::chrono_literals;
using coronet::task;
using clock_type = std::chrono::steady_clock;

class SleepTest : public coronet::testing::runtime_test {};

TEST_F(SleepTest, SleepSuspendsForAtLeastTheDuration) {
    auto took = run([]() -> task<clock_type::duration> {
        auto t0 = clock_type::now();
        co_await coronet::sleep(30ms);
        co_return clock_type::now() - t0;
    }());
    EXPECT_GE(took, 30ms);
}

TEST_F(SleepTest, SleepUntilResumesOnceTheDeadlineHasPassed) {
    auto late = run([]() -> task<bool> {
        auto deadline = clock_type::now() + 20ms;
        co_await coronet::sleep_until(deadline);
        co_return clock_type::now() >= deadline;
    }());
    EXPECT_TRUE(late);
}

TEST_F(SleepTest, SleepUntilWakesCoroutinesInDeadlineOrder) {
    auto order = run([]() -> task<std::vector<int>> {
        std::vector<int> order;  // every sleeper runs on this shard
        auto base = clock_type::now();
        const std::chrono::milliseconds at[] = {45ms, 15ms, 30ms, 0ms};
        std::vector<coronet::join_handle<void>> sleepers;
        for (int i = 0; i < 4; ++i) {
            sleepers.push_back(coronet::spawn([&order, i, deadline = base + at[i]]() -> task<void> {
                co_await coronet::sleep_until(deadline);
                order.push_back(i);
            }));
        }
        for (auto& s : sleepers) co_await s.join();
        co_return order;
    }());
    EXPECT_EQ(order, (std::vector<int>{3, 1, 2, 0}));
}

TEST_F(SleepTest, ShorterSleepsEndFirst) {
    auto order = run([]() -> task<std::vector<int>> {
        std::vector<int> order;
        const std::chrono::milliseconds length[] = {300ms, 100ms, 200ms};
        std::vector<coronet::join_handle<void>> sleepers;
        for (int i = 0; i < 3; ++i) {
            sleepers.push_back(coronet::spawn([&order, i, d = length[i]]() -> task<void> {
                co_await coronet::sleep(d);
                order.push_back(i);
            }));
        }
        for (auto& s : sleepers) co_await s.join();
        co_return order;
    }());
    EXPECT_EQ(order, (std::vector<int>{1, 2, 0}));
}

TEST_F(SleepTest, SleepsOnBothShardsOverlap) {
    constexpr int sleepers = 16;
    auto t0 = clock_type::now();
    std::vector<coronet::join_handle<void>> handles;
    for (int i = 0; i < sleepers; ++i)
        handles.push_back(rt_.spawn([]() -> task<void> { co_await coronet::sleep(50ms); }));
    for (auto& h : handles) h.wait();
    EXPECT_LT(clock_type::now() - t0, sleepers * 50ms / 2);
}

TEST_F(SleepTest, ASleepingCoroutineLeavesItsShardToOthers) {
    bool neighbour_ran = run([]() -> task<bool> {
        coronet::event done;
        auto sleeper = coronet::spawn([]() -> task<void> {
            co_await coronet::sleep(24h);
            ADD_FAILURE() << "the sleep ran its course";
        });
        auto neighbour = coronet::spawn([&done]() -> task<void> {
            done.set();
            co_return;
        });
        co_await neighbour.join();
        bool ran = done.is_set() && !sleeper.done();
        sleeper.terminate();
        try {
            co_await sleeper.join();
        } catch (const coronet::terminated&) {
        }
        co_return ran;
    }());
    EXPECT_TRUE(neighbour_ran);
}

TEST_F(SleepTest, ADeadlineInThePastResumesAtOnce) {
    auto took = run([]() -> task<clock_type::duration> {
        auto t0 = clock_type::now();
        co_await coronet::sleep_until(t0 - 1h);
        co_await coronet::sleep(-5ms);
        co_await coronet::sleep(0ms);
        co_return clock_type::now() - t0;
    }());
    EXPECT_LT(took, 5s);
}

TEST_F(SleepTest, ATerminatedSleepEndsEarlyWithTerminated) {
    std::latch asleep(1);
    std::atomic<int> unwound{0};
    auto t0 = clock_type::now();
    auto h = rt_.spawn([&]() -> task<void> {
        coronet::testing::destruction_probe probe(unwound);
        asleep.count_down();
        co_await coronet::sleep(24h);
    });
    asleep.wait();
    h.terminate();
    EXPECT_THROW(h.wait(), coronet::terminated);
    EXPECT_LT(clock_type::now() - t0, 10s);
    EXPECT_EQ(unwound.load(), 1);
}

TEST_F(SleepTest, ASleepCutShortByATimeoutEndsEarly) {
    auto [completed, took] = run([]() -> task<std::pair<bool, clock_type::duration>> {
        auto t0 = clock_type::now();
        bool completed = co_await coronet::with_timeout(20ms, coronet::sleep(24h));
        co_return std::pair{completed, clock_type::now() - t0};
    }());
    EXPECT_FALSE(completed);
    EXPECT_GE(took, 20ms);
    EXPECT_LT(took, 10s);
}

TEST_F(SleepTest, ManySleepersWakeInDeadlineOrderAndNeverEarly) {
    constexpr int n = 3000;
    struct woken {
        std::vector<int> in_time;  // ranks of sleepers that slept before their deadline
        int late = 0;              // sleepers that began after their deadline
        int early = 0;
    };
    auto w = run([]() -> task<woken> {
        woken w;  // every sleeper runs on this shard
        auto base = clock_type::now() + 50ms;
        std::vector<coronet::join_handle<void>> sleepers;
        for (int i = 0; i < n; ++i) {
            // Distinct deadlines in a scrambled order, 10 us apart.
            int rank = static_cast<int>((i * 7919L) % n);
            auto deadline = base + rank * 10us;
            sleepers.push_back(coronet::spawn([&w, rank, deadline]() -> task<void> {
                // One that starts after its deadline (a slow machine) rightly
                // wakes after the ones already due: only the others have an order.
                bool in_time = clock_type::now() < deadline;
                co_await coronet::sleep_until(deadline);
                if (clock_type::now() < deadline) ++w.early;
                if (in_time)
                    w.in_time.push_back(rank);
                else
                    ++w.late;
            }));
        }
        for (auto& s : sleepers) co_await s.join();
        co_return w;
    }());
    EXPECT_EQ(w.in_time.size() + static_cast<std::size_t>(w.late), static_cast<std::size_t>(n));
    EXPECT_GE(w.in_time.size(), static_cast<std::size_t>(n / 2));
    EXPECT_TRUE(std::is_sorted(w.in_time.begin(), w.in_time.end()));
    EXPECT_EQ(w.early, 0);
}

TEST_F(SleepTest, TerminatedSleepersLeaveTheOthersToWakeInOrder) {
    constexpr int n = 1000;
    struct woken {
        std::vector<int> in_time;  // as in the test above
        int late = 0;
        int terminated = 0;
    };
    auto w = run([]() -> task<woken> {
        woken w;
        auto base = clock_type::now() + 50ms;
        std::vector<coronet::join_handle<void>> sleepers;
        for (int i = 0; i < n; ++i) {
            int rank = static_cast<int>((i * 613L) % n);
            sleepers.push_back(
                coronet::spawn([&w, rank, deadline = base + rank * 20us]() -> task<void> {
                    bool in_time = clock_type::now() < deadline;
                    co_await coronet::sleep_until(deadline);
                    if (in_time)
                        w.in_time.push_back(rank);
                    else
                        ++w.late;
                }));
        }
        // Let them all go to sleep, then terminate every third: taken out of
        // the middle of the shard's timers, not only from the front.
        co_await coronet::yield();
        for (int i = 0; i < n; i += 3) sleepers[static_cast<std::size_t>(i)].terminate();
        for (auto& s : sleepers) {
            try {
                co_await s.join();
            } catch (const coronet::terminated&) {
                ++w.terminated;
            }
        }
        co_return w;
    }());
    EXPECT_EQ(w.terminated, (n + 2) / 3);
    EXPECT_EQ(w.in_time.size() + static_cast<std::size_t>(w.late),
              static_cast<std::size_t>(n - (n + 2) / 3));
    EXPECT_TRUE(std::is_sorted(w.in_time.begin(), w.in_time.end()));
}

}  // namespace
