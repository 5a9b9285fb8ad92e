#include <coronet_probes.hpp>
#include <coronet_test.hpp>

#include <atomic>
#include <chrono>
#include <latch>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>

namespace {

using namespace std::chrono_literals;
using coronet::task;
using coronet::testing::destruction_probe;
using clock_type = std::chrono::steady_clock;

class WithTimeoutTest : public coronet::testing::runtime_test {};

task<int> identity(int x) {
    co_return x;
}

task<int> after_a_yield(int x) {
    co_await coronet::yield();
    co_return x;
}

/// Never ends by itself; counts its unwinding.
task<int> endless(std::atomic<int>& unwound, std::atomic<bool>& finished) {
    destruction_probe probe(unwound);
    co_await coronet::sleep(24h);
    finished = true;
    co_return 1;
}

task<void> fail() {
    co_await coronet::yield();
    throw std::runtime_error("broken");
}

// ------------------------------------------------------------------ outcome

TEST_F(WithTimeoutTest, GivesTheValueOfAnOperationThatEndsInTime) {
    EXPECT_EQ(run([]() -> task<std::optional<int>> {
                  co_return co_await coronet::with_timeout(10s, identity(6));
              }()),
              6);
    EXPECT_EQ(run([]() -> task<std::optional<int>> {
                  co_return co_await coronet::with_timeout(10s, after_a_yield(7));
              }()),
              7);
}

TEST_F(WithTimeoutTest, GivesTrueForAVoidOperationThatEndsInTime) {
    EXPECT_TRUE(run([]() -> task<bool> {
        co_return co_await coronet::with_timeout(10s, coronet::sleep(1ms));
    }()));
}

TEST_F(WithTimeoutTest, GivesNothingOnceTheDeadlinePasses) {
    std::atomic<int> unwound{0};
    std::atomic<bool> finished{false};
    auto [result, took] = run([&]() -> task<std::pair<std::optional<int>, clock_type::duration>> {
        auto t0 = clock_type::now();
        auto r = co_await coronet::with_timeout(20ms, endless(unwound, finished));
        co_return std::pair{r, clock_type::now() - t0};
    }());
    EXPECT_FALSE(result.has_value());
    EXPECT_GE(took, 20ms);
    EXPECT_LT(took, 10s);
}

TEST_F(WithTimeoutTest, GivesFalseForAVoidOperationThatRunsLate) {
    EXPECT_FALSE(run([]() -> task<bool> {
        coronet::event never;
        co_return co_await coronet::with_timeout(10ms, never.wait());
    }()));
}

TEST_F(WithTimeoutTest, CancelsTheLateOperationAndUnwindsItsFrames) {
    std::atomic<int> unwound{0};
    std::atomic<bool> finished{false};
    auto unwound_on_return = run([&]() -> task<int> {
        co_await coronet::with_timeout(10ms, endless(unwound, finished));
        co_return unwound.load();
    }());
    EXPECT_EQ(unwound_on_return, 1) << "the late operation was not unwound before the return";
    EXPECT_FALSE(finished.load());
}

TEST_F(WithTimeoutTest, PassesOnTheExceptionOfTheOperation) {
    EXPECT_THROW(
        run([]() -> task<bool> { co_return co_await coronet::with_timeout(10s, fail()); }()),
        std::runtime_error);
}

TEST_F(WithTimeoutTest, AnOperationThatNeverSuspendsEndsWithItsValuePastTheDeadline) {
    EXPECT_EQ(run([]() -> task<std::optional<int>> {
                  co_return co_await coronet::with_timeout(1ms, []() -> task<int> {
                      std::this_thread::sleep_for(10ms);  // holds the shard: no point to cancel at
                      co_return 3;
                  }());
              }()),
              3);
}

TEST_F(WithTimeoutTest, CutsShortALoopOfYields) {
    EXPECT_FALSE(run([]() -> task<bool> {
        co_return co_await coronet::with_timeout(10ms, []() -> task<void> {
            for (;;) co_await coronet::yield();
        }());
    }()));
}

TEST_F(WithTimeoutTest, TerminationPassesThroughIt) {
    coronet::event never;
    std::latch waiting(1);
    auto h = rt_.spawn([&]() -> task<bool> {
        waiting.count_down();
        co_return co_await coronet::with_timeout(24h, never.wait());
    });
    waiting.wait();
    h.terminate();
    EXPECT_THROW(h.wait(), coronet::terminated);
}

// ------------------------------------------------------------------ nesting

TEST_F(WithTimeoutTest, AnInnerTimeoutIsReportedOnlyByTheInnerCall) {
    auto outer = run([]() -> task<std::optional<bool>> {
        coronet::event never;
        co_return co_await coronet::with_timeout(24h, [&never]() -> task<bool> {
            bool inner = co_await coronet::with_timeout(10ms, never.wait());
            co_await coronet::yield();  // the inner deadline does not linger
            co_await coronet::sleep(1ms);
            co_return inner;
        }());
    }());
    ASSERT_TRUE(outer.has_value()) << "the outer call saw the inner timeout";
    EXPECT_FALSE(*outer);
}

TEST_F(WithTimeoutTest, AnOuterTimeoutUnwindsThroughTheInnerCall) {
    std::atomic<bool> inner_returned{false};
    auto outer = run([&]() -> task<std::optional<bool>> {
        coronet::event never;
        co_return co_await coronet::with_timeout(10ms, [&]() -> task<bool> {
            bool inner = co_await coronet::with_timeout(24h, never.wait());
            inner_returned = true;
            co_return inner;
        }());
    }());
    EXPECT_FALSE(outer.has_value());
    EXPECT_FALSE(inner_returned.load());
}

TEST_F(WithTimeoutTest, WhenNestedDeadlinesHaveBothPassedTheOuterCallReports) {
    std::atomic<bool> inner_returned{false};
    auto outer = run([&]() -> task<std::optional<bool>> {
        coronet::event never;
        // A neighbour holds the shard until both deadlines are past.
        auto neighbour = coronet::spawn([]() -> task<void> {
            std::this_thread::sleep_for(60ms);
            co_return;
        });
        auto r = co_await coronet::with_timeout(10ms, [&]() -> task<bool> {
            bool inner = co_await coronet::with_timeout(5ms, never.wait());
            inner_returned = true;
            co_return inner;
        }());
        co_await neighbour.join();
        co_return r;
    }());
    EXPECT_FALSE(outer.has_value());
    EXPECT_FALSE(inner_returned.load());
}

TEST_F(WithTimeoutTest, ATimeoutThatFiresAfterCompletionDoesNotLeakIntoALaterAwait) {
    auto result = run([]() -> task<std::optional<int>> {
        // The joined coroutine ends only after holding the shard past the
        // deadline, so the timer is due when the join has already completed.
        auto slow = coronet::spawn([]() -> task<int> {
            std::this_thread::sleep_for(200ms);
            co_return 7;
        });
        auto r = co_await coronet::with_timeout(100ms, slow.join());
        co_await coronet::yield();
        co_await coronet::sleep(1ms);
        co_return r;
    }());
    EXPECT_EQ(result, 7);
}

TEST_F(WithTimeoutTest, ManyCallsInARowEachKeepTheirOwnDeadline) {
    auto timed_out = run([]() -> task<int> {
        coronet::event never;
        int timed_out = 0;
        for (int i = 0; i < 50; ++i) {
            if (!co_await coronet::with_timeout(10s, after_a_yield(i))) ++timed_out;
            if (!co_await coronet::with_timeout(1ms, never.wait())) ++timed_out;
        }
        co_return timed_out;
    }());
    EXPECT_EQ(timed_out, 50);
}

// ------------------------------------------------------------------ what it waits on

TEST_F(WithTimeoutTest, WaitsForAnEventThatIsSetInTime) {
    EXPECT_TRUE(run([]() -> task<bool> {
        coronet::event ev;
        auto setter = coronet::spawn_on(1 - coronet::this_shard(), [&ev]() -> task<void> {
            ev.set();
            co_return;
        });
        bool set = co_await coronet::with_timeout(10s, ev.wait());
        co_await setter.join();
        co_return set;
    }()));
}

TEST_F(WithTimeoutTest, ATimedOutEventWaitLeavesTheEventUsable) {
    EXPECT_TRUE(run([]() -> task<bool> {
        coronet::event ev;
        bool first = co_await coronet::with_timeout(5ms, ev.wait());
        ev.set();  // must not reach the waiter that timed out
        bool second = co_await coronet::with_timeout(10s, ev.wait());
        co_return !first && second;
    }()));
}

TEST_F(WithTimeoutTest, WaitsForAJoinOnAnotherShard) {
    auto result = run([]() -> task<std::optional<int>> {
        auto child = coronet::spawn_on(1 - coronet::this_shard(), after_a_yield, 11);
        co_return co_await coronet::with_timeout(10s, child.join());
    }());
    EXPECT_EQ(result, 11);
}

TEST_F(WithTimeoutTest, ATimedOutJoinLeavesTheJoinedCoroutineRunning) {
    auto [first, second] = run([]() -> task<std::pair<std::optional<int>, int>> {
        coronet::event go;
        auto child = coronet::spawn_on(1 - coronet::this_shard(), [&go]() -> task<int> {
            co_await go.wait();
            co_return 12;
        });
        auto first = co_await coronet::with_timeout(5ms, child.join());
        go.set();
        int second = co_await child.join();
        co_return std::pair{first, second};
    }());
    EXPECT_FALSE(first.has_value());
    EXPECT_EQ(second, 12);
}

}  // namespace
