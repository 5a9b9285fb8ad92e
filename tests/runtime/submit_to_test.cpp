#include <coronet_probes.hpp>
#include <coronet_test.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;
using coronet::task;
using coronet::testing::destruction_probe;
using coronet::testing::set_on_destruction;

class SubmitToTest : public coronet::testing::runtime_test {};

/// Runs `body` as a coroutine on shard `shard` and returns its value.
template <class Body>
auto on_shard(coronet::runtime& rt, unsigned shard, Body body) {
    return rt.spawn_on(shard, std::move(body)).wait();
}

TEST_F(SubmitToTest, RunsAFunctionOnTheTargetShardAndResumesTheCallerOnItsOwn) {
    for (unsigned from = 0; from < 2; ++from) {
        auto [there, back] = on_shard(rt_, from, []() -> task<std::pair<unsigned, unsigned>> {
            unsigned other = 1 - coronet::this_shard();
            unsigned there =
                co_await coronet::submit_to(other, [] { return coronet::this_shard(); });
            co_return std::pair{there, coronet::this_shard()};
        });
        EXPECT_EQ(there, 1 - from);
        EXPECT_EQ(back, from);
    }
}

TEST_F(SubmitToTest, RunsACoroutineFunctionOnTheTargetShardThroughItsSuspensions) {
    auto shards = on_shard(rt_, 0, []() -> task<std::vector<unsigned>> {
        co_return co_await coronet::submit_to(1, []() -> task<std::vector<unsigned>> {
            std::vector<unsigned> seen{coronet::this_shard()};
            co_await coronet::yield();
            seen.push_back(coronet::this_shard());
            co_await coronet::sleep(1ms);
            seen.push_back(coronet::this_shard());
            co_return seen;
        });
    });
    EXPECT_EQ(shards, (std::vector<unsigned>{1, 1, 1}));
}

TEST_F(SubmitToTest, RunsInlineOnTheCallersOwnShard) {
    struct seen {
        bool same_thread;
        bool neighbour_ran;
        std::uint64_t spawned;
    };
    auto r = on_shard(rt_, 0, [this]() -> task<std::pair<seen, seen>> {
        bool neighbour_ran = false;
        auto neighbour = coronet::spawn([&neighbour_ran]() -> task<void> {
            neighbour_ran = true;
            co_return;
        });
        auto me = std::this_thread::get_id();
        auto spawned = rt_.stats().spawned;

        bool same =
            co_await coronet::submit_to(0, [me] { return std::this_thread::get_id() == me; });
        seen plain{same, neighbour_ran, rt_.stats().spawned - spawned};

        same = co_await coronet::submit_to(
            0, [me]() -> task<bool> { co_return std::this_thread::get_id() == me; });
        seen coroutine{same, neighbour_ran, rt_.stats().spawned - spawned};

        co_await neighbour.join();
        co_return std::pair{plain, coroutine};
    });
    for (const seen& s : {r.first, r.second}) {
        EXPECT_TRUE(s.same_thread);
        EXPECT_FALSE(s.neighbour_ran) << "the caller suspended";
        EXPECT_EQ(s.spawned, 0u) << "a coroutine was spawned";
    }
}

TEST_F(SubmitToTest, ReturnsVoidValuesAndMoveOnlyResults) {
    auto r = on_shard(rt_, 0, []() -> task<std::pair<unsigned, std::string>> {
        unsigned hit = 99;
        co_await coronet::submit_to(1, [&hit] { hit = coronet::this_shard(); });
        co_await coronet::submit_to(1, []() -> task<void> { co_await coronet::yield(); });
        auto p =
            co_await coronet::submit_to(1, [] { return std::make_unique<std::string>("moved"); });
        auto q = co_await coronet::submit_to(1, []() -> task<std::unique_ptr<std::string>> {
            co_return std::make_unique<std::string>(" twice");
        });
        co_return std::pair{hit, *p + *q};
    });
    EXPECT_EQ(r.first, 1u);
    EXPECT_EQ(r.second, "moved twice");
}

TEST_F(SubmitToTest, MovesTheFunctionToTheTargetShard) {
    auto r = on_shard(rt_, 0, []() -> task<int> {
        auto p = std::make_unique<int>(21);
        // Made before the co_await: GCC 12 destroys a local twice when a
        // co_await expression moves it into a lambda capture.
        auto double_it = [p = std::move(p)] { return *p * 2; };
        co_return co_await coronet::submit_to(1, std::move(double_it));
    });
    EXPECT_EQ(r, 42);
}

TEST_F(SubmitToTest, PassesOnTheExceptionOfTheFunction) {
    auto caught = on_shard(rt_, 0, []() -> task<int> {
        int caught = 0;
        for (unsigned target : {0u, 1u}) {
            try {
                co_await coronet::submit_to(target,
                                            []() -> int { throw std::logic_error("plain"); });
            } catch (const std::logic_error&) {
                ++caught;
            }
            try {
                co_await coronet::submit_to(target, []() -> task<int> {
                    co_await coronet::yield();
                    throw std::logic_error("coroutine");
                });
            } catch (const std::logic_error&) {
                ++caught;
            }
        }
        co_return caught;
    });
    EXPECT_EQ(caught, 4);
    EXPECT_EQ(rt_.run(), 0);
    EXPECT_EQ(rt_.stats().unhandled_exceptions, 0u) << "an exception the caller took was reported";
}

TEST_F(SubmitToTest, AnInvalidShardThrowsInvalidShard) {
    auto ec = on_shard(rt_, 0, []() -> task<std::error_code> {
        std::error_code ec;
        try {
            co_await coronet::submit_to(2, [] { return 1; });
        } catch (const std::system_error& e) {
            ec = e.code();
        }
        co_return ec;
    });
    EXPECT_EQ(ec, coronet::errc::invalid_shard);
}

TEST_F(SubmitToTest, TerminatingTheCallerTerminatesTheRemoteWork) {
    coronet::event never;
    coronet::event remote_started;
    coronet::event remote_gone;
    std::atomic<int> unwound{0};
    auto caller = rt_.spawn_on(0, [&]() -> task<void> {
        co_await coronet::submit_to(1, [&]() -> task<void> {
            set_on_destruction gone(remote_gone);
            destruction_probe probe(unwound);
            remote_started.set();
            co_await never.wait();
        });
    });
    EXPECT_TRUE(run(remote_started.wait(10s)));
    caller.terminate();
    EXPECT_THROW(caller.wait(), coronet::terminated);
    EXPECT_TRUE(run(remote_gone.wait(10s))) << "the remote work went on";
    EXPECT_EQ(unwound.load(), 1);
    rt_.stop();
}

TEST_F(SubmitToTest, ATimedOutCallCancelsTheRemoteWork) {
    coronet::event never;
    coronet::event remote_gone;
    bool completed = on_shard(rt_, 0, [&]() -> task<bool> {
        co_return co_await coronet::with_timeout(20ms, coronet::submit_to(1, [&]() -> task<void> {
                                                     set_on_destruction gone(remote_gone);
                                                     co_await never.wait();
                                                 }));
    });
    EXPECT_FALSE(completed);
    EXPECT_TRUE(run(remote_gone.wait(10s))) << "the remote work went on after the timeout";
    rt_.stop();
}

TEST_F(SubmitToTest, RoundTripsFromEveryShardStress) {
    constexpr int trips = coronet::testing::rounds(100'000, 5'000);
    constexpr int callers = 8;
    std::vector<coronet::join_handle<long>> handles;
    for (int i = 0; i < callers; ++i) {
        handles.push_back(rt_.spawn_on(i % 2, []() -> task<long> {
            const unsigned here = coronet::this_shard();
            const unsigned other = 1 - here;
            long sum = 0;
            for (int k = 0; k < trips; ++k) {
                switch (k % 4) {
                    case 0:
                        sum += co_await coronet::submit_to(other, [k, other] {
                            return coronet::this_shard() == other ? k : -1'000'000;
                        });
                        break;
                    case 1:
                        sum += co_await coronet::submit_to(other, [k, other]() -> task<int> {
                            co_return coronet::this_shard() == other ? k : -1'000'000;
                        });
                        break;
                    case 2:
                        sum += co_await coronet::submit_to(here, [k] { return k; });
                        break;
                    default:
                        sum += co_await coronet::submit_to(other, [k]() -> task<int> {
                            co_await coronet::yield();
                            co_return k;
                        });
                }
                if (coronet::this_shard() != here) sum = -1;
            }
            co_return sum;
        }));
    }
    const long expected = static_cast<long>(trips) * (trips - 1) / 2;
    for (auto& h : handles) EXPECT_EQ(h.wait(), expected);
    EXPECT_EQ(rt_.run(), 0);
    EXPECT_EQ(rt_.stats().unhandled_exceptions, 0u);
}

}  // namespace
