#include <coronet_probes.hpp>
#include <coronet_test.hpp>

#include <atomic>
#include <chrono>
#include <latch>
#include <string>

namespace {

using namespace std::chrono_literals;
using coronet::task;

class YieldTest : public coronet::testing::runtime_test {};

TEST_F(YieldTest, AnotherReadyCoroutineRunsInBetween) {
    auto seen = run([]() -> task<std::pair<bool, bool>> {
        bool neighbour_ran = false;
        auto neighbour = coronet::spawn([&neighbour_ran]() -> task<void> {
            neighbour_ran = true;
            co_return;
        });
        bool before = neighbour_ran;
        co_await coronet::yield();
        bool after = neighbour_ran;
        co_await neighbour.join();
        co_return std::pair{before, after};
    }());
    EXPECT_EQ(seen, std::pair(false, true));
}

TEST_F(YieldTest, YieldingCoroutinesTakeTurns) {
    auto trace = run([]() -> task<std::string> {
        std::string trace;  // both run on this shard
        auto turns = [&trace](char name) -> task<void> {
            for (int i = 0; i < 3; ++i) {
                trace += name;
                co_await coronet::yield();
            }
        };
        auto a = coronet::spawn(turns, 'a');
        auto b = coronet::spawn(turns, 'b');
        co_await a.join();
        co_await b.join();
        co_return trace;
    }());
    EXPECT_EQ(trace, "ababab");
}

TEST_F(YieldTest, YieldResumesTheCoroutineOnItsShard) {
    for (unsigned s = 0; s < 2; ++s) {
        auto h = rt_.spawn_on(s, []() -> task<bool> {
            unsigned before = coronet::this_shard();
            for (int i = 0; i < 10; ++i) co_await coronet::yield();
            co_return coronet::this_shard() == before;
        });
        EXPECT_TRUE(h.wait());
    }
}

TEST_F(YieldTest, AYieldingLoopLeavesTimersOfItsShardTheirTurn) {
    auto yields = run([]() -> task<long> {
        bool timer_fired = false;
        auto sleeper = coronet::spawn([&timer_fired]() -> task<void> {
            co_await coronet::sleep(1ms);
            timer_fired = true;
        });
        long yields = 0;
        while (!timer_fired) {
            co_await coronet::yield();
            ++yields;
        }
        co_await sleeper.join();
        co_return yields;
    }());
    EXPECT_GT(yields, 0);
}

TEST_F(YieldTest, ATerminatedCoroutineIsStoppedAtItsNextYield) {
    std::atomic<int> unwound{0};
    std::latch looping(1);
    auto h = rt_.spawn([&]() -> task<void> {
        coronet::testing::destruction_probe probe(unwound);
        looping.count_down();
        for (;;) co_await coronet::yield();
    });
    looping.wait();
    h.terminate();
    EXPECT_THROW(h.wait(), coronet::terminated);
    EXPECT_EQ(unwound.load(), 1);
}

}  // namespace
