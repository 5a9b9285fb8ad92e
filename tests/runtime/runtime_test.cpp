#include <coronet/runtime/spawn_blocking.hpp>
#include <coronet_probes.hpp>
#include <coronet_test.hpp>

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <latch>
#include <memory>
#include <optional>
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

class RuntimeTest : public coronet::testing::runtime_test {
protected:
    static coronet::runtime_options with_shards(unsigned n) {
        coronet::runtime_options o;
        o.shards = n;
        return o;
    }

    /// What rt_.run() returns, if it returns within `limit`; if not, stops the
    /// runtime (so that it does) and returns nothing.
    std::optional<int> run_within(std::chrono::seconds limit) {
        auto ran = std::async(std::launch::async, [this] { return rt_.run(); });
        if (ran.wait_for(limit) == std::future_status::ready) return ran.get();
        rt_.stop();
        return std::nullopt;
    }
};

task<unsigned> shard_of_caller() {
    co_return coronet::this_shard();
}

task<int> identity(int x) {
    co_return x;
}

task<int> after_a_yield(int x) {
    co_await coronet::yield();
    co_return x;
}

task<void> fail() {
    throw std::runtime_error("boom");
    co_return;
}

task<void> wait_for(coronet::event& e) {
    co_await e.wait();
}

/// The code of the std::system_error that `fn` throws; an empty code if none.
template <class Fn>
std::error_code error_of(Fn&& fn) {
    try {
        fn();
    } catch (const std::system_error& e) {
        return e.code();
    }
    return {};
}

/// Records, when destroyed, the shard it was destroyed on (-1 off the shards).
class shard_recorder {
public:
    explicit shard_recorder(std::atomic<int>& where) noexcept : where_(&where) {}
    shard_recorder(shard_recorder&& o) noexcept : where_(std::exchange(o.where_, nullptr)) {}
    shard_recorder& operator=(shard_recorder&&) = delete;
    ~shard_recorder() {
        if (where_) where_->store(coronet::detail::this_shard_index());
    }

private:
    std::atomic<int>* where_;
};

constexpr int not_destroyed = -2;

// ------------------------------------------------------------------ shards

TEST_F(RuntimeTest, HasOneShardPerCoreByDefault) {
    coronet::runtime rt;
    EXPECT_EQ(rt.shard_count(), std::max(1u, std::thread::hardware_concurrency()));
}

TEST_F(RuntimeTest, HasAsManyShardsAsItsOptionsAsk) {
    coronet::runtime rt(with_shards(3));
    EXPECT_EQ(rt.shard_count(), 3u);
    EXPECT_EQ(rt.sync_wait([]() -> task<unsigned> { co_return coronet::shard_count(); }()), 3u);
    for (unsigned s = 0; s < 3; ++s) EXPECT_EQ(rt.spawn_on(s, shard_of_caller).wait(), s);
}

TEST_F(RuntimeTest, EachShardRunsOnAThreadOfItsOwn) {
    auto thread_of = [] {
        return []() -> task<std::thread::id> { co_return std::this_thread::get_id(); };
    };
    auto t0 = rt_.spawn_on(0, thread_of()).wait();
    auto t1 = rt_.spawn_on(1, thread_of()).wait();
    EXPECT_NE(t0, t1);
    EXPECT_NE(t0, std::this_thread::get_id());
    EXPECT_NE(t1, std::this_thread::get_id());
    EXPECT_EQ(rt_.spawn_on(0, thread_of()).wait(), t0);
}

std::string this_thread_name() {
    char name[16] = {};
    pthread_getname_np(pthread_self(), name, sizeof name);
    return name;
}

TEST_F(RuntimeTest, ItsThreadsAreNamedForWhatTheyRun) {
    auto name_of_thread = []() -> task<std::string> { co_return this_thread_name(); };
    EXPECT_EQ(rt_.spawn_on(0, name_of_thread).wait(), "coronet-shard0");
    EXPECT_EQ(rt_.spawn_on(1, name_of_thread).wait(), "coronet-shard1");
    auto name_of_pool_thread = []() -> task<std::string> {
        co_return co_await coronet::spawn_blocking(this_thread_name);
    };
    EXPECT_EQ(rt_.sync_wait(name_of_pool_thread()), "coronet-pool");
}

// ------------------------------------------------------------------ spawn

TEST_F(RuntimeTest, SpawnFromOutsideTakesTheShardsInTurn) {
    std::vector<coronet::join_handle<unsigned>> handles;
    for (int i = 0; i < 8; ++i) handles.push_back(rt_.spawn(shard_of_caller));
    unsigned per_shard[2] = {0, 0};
    for (std::size_t i = 0; i < handles.size(); ++i) {
        unsigned shard = handles[i].id().shard;
        ASSERT_LT(shard, 2u);
        if (i > 0) {
            EXPECT_NE(shard, handles[i - 1].id().shard);
        }
        EXPECT_EQ(handles[i].wait(), shard) << "it did not run where its id says";
        ++per_shard[shard];
    }
    EXPECT_EQ(per_shard[0], 4u);
    EXPECT_EQ(per_shard[1], 4u);
}

TEST_F(RuntimeTest, SpawnFromACoroutineStaysOnItsShard) {
    auto h = rt_.spawn_on(1, [this]() -> task<std::vector<unsigned>> {
        auto a = rt_.spawn(shard_of_caller);
        auto b = coronet::spawn(shard_of_caller);
        std::vector<unsigned> out{a.id().shard, b.id().shard};
        out.push_back(co_await a.join());
        out.push_back(co_await b.join());
        co_return out;
    });
    EXPECT_EQ(h.wait(), (std::vector<unsigned>{1, 1, 1, 1}));
}

TEST_F(RuntimeTest, CoroutinesSpawnedOnAShardStartInTheOrderTheyWereSpawned) {
    // Enough to be alive at once in dozens of the slot table's chunks and to
    // grow the ready queue far past its first sizes, a few times over.
    constexpr int n = 200'000;
    for (int round = 0; round < 3; ++round) {
        auto h = rt_.spawn_on(0, [&]() -> task<std::vector<int>> {
            std::vector<int> order;
            order.reserve(n);
            std::vector<coronet::join_handle<void>> all;
            all.reserve(n);
            for (int i = 0; i < n; ++i)
                all.push_back(coronet::spawn([&order, i]() -> task<void> {
                    order.push_back(i);
                    co_return;
                }));
            for (auto& c : all) co_await c.join();
            co_return order;
        });
        std::vector<int> order = h.wait();
        ASSERT_EQ(order.size(), static_cast<std::size_t>(n));
        EXPECT_TRUE(std::is_sorted(order.begin(), order.end()));
        EXPECT_EQ(order.back(), n - 1);
    }
}

TEST_F(RuntimeTest, SpawnOnRunsOnTheGivenShard) {
    for (unsigned s = 0; s < 2; ++s) {
        auto h = rt_.spawn_on(s, shard_of_caller);
        EXPECT_EQ(h.id().shard, s);
        EXPECT_EQ(h.wait(), s);
    }
    auto from_coroutine = rt_.spawn_on(0, []() -> task<unsigned> {
        auto h = coronet::spawn_on(1, shard_of_caller);
        co_return co_await h.join();
    });
    EXPECT_EQ(from_coroutine.wait(), 1u);
}

TEST_F(RuntimeTest, SpawnPassesItsArgumentsToTheFunction) {
    auto h = rt_.spawn(
        [](int n, std::string s) -> task<std::string> { co_return s + std::to_string(n); }, 7,
        std::string("x"));
    EXPECT_EQ(h.wait(), "x7");
}

TEST_F(RuntimeTest, SpawnCopiesItsArgumentsSoTheCallerMayChangeThem) {
    coronet::event go;
    std::string text = "before";
    auto h = rt_.spawn(
        [&go](const std::string& s) -> task<std::string> {
            co_await go.wait();
            co_return s;
        },
        text);
    text = "after";
    go.set();
    EXPECT_EQ(h.wait(), "before");
}

TEST_F(RuntimeTest, SpawnKeepsALambdasCapturesAliveAfterTheCall) {
    coronet::event go;
    std::weak_ptr<int> watch;
    auto h = [&] {
        auto value = std::make_shared<int>(42);
        watch = value;
        return rt_.spawn([value, &go]() -> task<int> {
            co_await go.wait();
            co_return *value;
        });
    }();
    EXPECT_FALSE(watch.expired()) << "the coroutine does not own its captures";
    go.set();
    EXPECT_EQ(h.wait(), 42);
}

TEST_F(RuntimeTest, SpawnAcceptsMoveOnlyFunctionsAndArguments) {
    auto h = rt_.spawn(
        [p = std::make_unique<int>(40)](std::unique_ptr<int> q) -> task<int> {
            co_await coronet::yield();
            co_return *p + *q;
        },
        std::make_unique<int>(2));
    EXPECT_EQ(h.wait(), 42);
}

TEST_F(RuntimeTest, SpawnGivesASpawnContextToAFunctionThatAsksForOne) {
    using result = std::pair<coronet::detail::control*, int>;
    auto h = rt_.spawn(
        [](coronet::spawn_context self, int n) -> task<result> {
            co_return result{self.control(), n};
        },
        5);
    auto* expected = h.control();
    auto [control, n] = h.wait();
    EXPECT_EQ(control, expected);
    EXPECT_EQ(n, 5);
}

TEST_F(RuntimeTest, ArgumentsAreDestroyedOnTheCoroutinesShardWhenItEnds) {
    std::atomic<int> capture_at{not_destroyed};
    std::atomic<int> argument_at{not_destroyed};
    auto seen = rt_.spawn_on(1, [&]() -> task<std::pair<int, int>> {
        auto h = coronet::spawn([probe = shard_recorder(capture_at)](
                                    const shard_recorder&) -> task<void> { co_return; },
                                shard_recorder(argument_at));
        co_await h.join();
        // The handle is still held: only the result may outlive the coroutine.
        co_return std::pair{capture_at.load(), argument_at.load()};
    });
    EXPECT_EQ(seen.wait(), std::pair(1, 1));
}

task<void> take_by_value(shard_recorder) {
    co_await coronet::yield();
}

TEST_F(RuntimeTest, ParametersTakenByValueAreDestroyedOnTheCoroutinesShardWhenItEnds) {
    std::atomic<int> parameter_at{not_destroyed};
    auto seen = rt_.spawn_on(1, [&]() -> task<int> {
        auto h = coronet::spawn_on(0, take_by_value, shard_recorder(parameter_at));
        co_await h.join();
        co_return parameter_at.load();
    });
    EXPECT_EQ(seen.wait(), 0) << "the frame was not destroyed on the coroutine's shard";
}

TEST_F(RuntimeTest, AFunctionThatThrowsInsteadOfMakingItsTaskEndsTheCoroutineWithIt) {
    auto h = rt_.spawn(
        [](int n) -> task<int> {  // not a coroutine: it throws when called
            if (n > 0) throw std::length_error("too long");
            return identity(n);
        },
        1);
    EXPECT_THROW(h.wait(), std::length_error);
}

TEST_F(RuntimeTest, ACoroutineMaySpawnOnAndJoinAnotherRuntime) {
    coronet::runtime other(with_shards(1));
    auto [value, shard] = rt_.spawn_on(1,
                                       [&other]() -> task<std::pair<int, unsigned>> {
                                           auto h = other.spawn(after_a_yield, 5);
                                           int v = co_await h.join();
                                           co_return std::pair{v, coronet::this_shard()};
                                       })
                              .wait();
    EXPECT_EQ(value, 5);
    EXPECT_EQ(shard, 1u) << "the joiner was resumed off its shard";
}

// ------------------------------------------------------------------ run and stop

TEST_F(RuntimeTest, RunReturnsAtOnceWhenNothingWasSpawned) {
    EXPECT_EQ(rt_.run(), 0);
}

TEST_F(RuntimeTest, RunReturnsOnceEveryNonDaemonCoroutineHasEnded) {
    std::atomic<int> ended{0};
    for (unsigned s = 0; s < 2; ++s) {
        rt_.spawn_on(s, [&ended]() -> task<void> {
            // One it spawns meanwhile, on the other shard, ends later still.
            coronet::spawn_on(1 - coronet::this_shard(), [&ended]() -> task<void> {
                co_await coronet::sleep(30ms);
                ++ended;
            });
            co_await coronet::sleep(10ms);
            ++ended;
        });
    }
    EXPECT_EQ(rt_.run(), 0);
    EXPECT_EQ(ended.load(), 4);
}

TEST_F(RuntimeTest, RunDoesNotWaitForDaemonsAndStopTerminatesThem) {
    coronet::event never;
    std::atomic<int> unwound{0};
    std::latch started(1);
    auto daemon = rt_.spawn([&]() -> task<void> {
                         destruction_probe probe(unwound);
                         started.count_down();
                         co_await never.wait();
                     })
                      .set_daemon();
    started.wait();
    EXPECT_EQ(run_within(10s), 0) << "run() waited for a daemon";
    EXPECT_FALSE(daemon.done());
    EXPECT_EQ(unwound.load(), 0);

    rt_.stop();
    EXPECT_TRUE(daemon.done());
    EXPECT_EQ(unwound.load(), 1);
    EXPECT_THROW(daemon.wait(), coronet::terminated);
}

TEST_F(RuntimeTest, StopMakesAPendingRunReturn) {
    coronet::event never;
    rt_.spawn(wait_for, std::ref(never));
    auto ran = std::async(std::launch::async, [this] { return rt_.run(); });
    rt_.stop();
    ASSERT_EQ(ran.wait_for(10s), std::future_status::ready);
    EXPECT_EQ(ran.get(), 0) << "a terminated coroutine is not an unhandled exception";
}

TEST_F(RuntimeTest, StopIsIdempotent) {
    rt_.stop();
    rt_.stop();
    EXPECT_EQ(rt_.run(), 0);
}

TEST_F(RuntimeTest, DestroyingTheRuntimeUnwindsEverySuspendedCoroutine) {
    // Each probe is one frame that must be unwound: the coroutines park on a
    // sleep, an event, a join, a yield loop, a timeout, a cross-shard call and
    // a second suspension after catching `terminated`.
    constexpr int frames = 9;
    std::atomic<int> unwound{0};
    std::atomic<int> caught{0};
    std::latch started(frames);
    coronet::event never;
    {
        coronet::runtime rt(options());
        rt.spawn_on(0, [&]() -> task<void> {
            destruction_probe probe(unwound);
            started.count_down();
            co_await coronet::sleep(24h);
        });
        rt.spawn_on(1, [&]() -> task<void> {
            destruction_probe probe(unwound);
            started.count_down();
            co_await never.wait();
        });
        rt.spawn_on(0, [&]() -> task<void> {
            destruction_probe probe(unwound);
            auto child = coronet::spawn_on(1, [&]() -> task<void> {
                destruction_probe probe(unwound);
                started.count_down();
                co_await never.wait();
            });
            started.count_down();
            co_await child.join();
        });
        rt.spawn_on(1, [&]() -> task<void> {
            destruction_probe probe(unwound);
            started.count_down();
            for (;;) co_await coronet::yield();
        });
        rt.spawn_on(0, [&]() -> task<void> {
            destruction_probe probe(unwound);
            started.count_down();
            co_await coronet::with_timeout(24h, never.wait());
        });
        rt.spawn_on(1, [&]() -> task<void> {
            destruction_probe probe(unwound);
            started.count_down();
            co_await coronet::submit_to(0, [&]() -> task<void> {
                destruction_probe probe(unwound);
                started.count_down();
                co_await never.wait();
            });
        });
        rt.spawn_on(0, [&]() -> task<void> {
            destruction_probe probe(unwound);
            try {
                started.count_down();
                co_await never.wait();
            } catch (const coronet::terminated&) {
                ++caught;
            }
            co_await coronet::yield();
            ADD_FAILURE() << "a terminated coroutine went on past a suspension point";
        });
        started.wait();
    }
    EXPECT_EQ(unwound.load(), frames);
    EXPECT_EQ(caught.load(), 1);
}

// ------------------------------------------------------------------ sync_wait

TEST_F(RuntimeTest, SyncWaitReturnsTheValueOfTheTask) {
    EXPECT_EQ(rt_.sync_wait(identity(5)), 5);
}

TEST_F(RuntimeTest, SyncWaitRunsTheTaskOnAShard) {
    auto [shard, thread] = rt_.sync_wait([]() -> task<std::pair<unsigned, std::thread::id>> {
        co_return std::pair{coronet::this_shard(), std::this_thread::get_id()};
    }());
    EXPECT_LT(shard, 2u);
    EXPECT_NE(thread, std::this_thread::get_id());
}

TEST_F(RuntimeTest, SyncWaitRethrowsTheExceptionOfTheTask) {
    EXPECT_THROW(rt_.sync_wait(fail()), std::runtime_error);
    EXPECT_EQ(rt_.run(), 0);
    EXPECT_EQ(rt_.stats().unhandled_exceptions, 0u);
}

// ------------------------------------------------------------------ errors

TEST_F(RuntimeTest, SpawnAfterStopThrowsRuntimeStopped) {
    rt_.stop();
    EXPECT_EQ(error_of([&] { rt_.spawn(shard_of_caller); }), coronet::errc::runtime_stopped);
    EXPECT_EQ(error_of([&] { rt_.spawn_on(1, shard_of_caller); }), coronet::errc::runtime_stopped);
    EXPECT_EQ(error_of([&] { rt_.sync_wait(identity(1)); }), coronet::errc::runtime_stopped);
}

TEST_F(RuntimeTest, SpawnOnAnInvalidShardThrowsInvalidShard) {
    EXPECT_EQ(error_of([&] { rt_.spawn_on(2, shard_of_caller); }), coronet::errc::invalid_shard);
    std::error_code inside = run([]() -> task<std::error_code> {
        std::error_code ec;
        try {
            coronet::spawn_on(7, shard_of_caller);
        } catch (const std::system_error& e) {
            ec = e.code();
        }
        co_return ec;
    }());
    EXPECT_EQ(inside, coronet::errc::invalid_shard);
    EXPECT_EQ(rt_.sync_wait(identity(3)), 3) << "the runtime went on";
}

TEST_F(RuntimeTest, CoroutineFunctionsOffTheShardsThrowNotInCoroutine) {
    EXPECT_EQ(error_of([] { coronet::this_shard(); }), coronet::errc::not_in_coroutine);
    EXPECT_EQ(error_of([] { coronet::shard_count(); }), coronet::errc::not_in_coroutine);
    EXPECT_EQ(error_of([] { coronet::spawn(shard_of_caller); }), coronet::errc::not_in_coroutine);
    EXPECT_EQ(error_of([] { coronet::spawn_on(0, shard_of_caller); }),
              coronet::errc::not_in_coroutine);
}

// ------------------------------------------------------------------ unhandled exceptions

TEST_F(RuntimeTest, AnExceptionNobodyJoinsIsReportedAndTheRuntimeKeepsGoing) {
    rt_.spawn(fail);
    EXPECT_EQ(rt_.run(), 1);
    EXPECT_EQ(rt_.stats().unhandled_exceptions, 1u);

    EXPECT_EQ(rt_.sync_wait(identity(3)), 3);
    rt_.spawn_on(1, fail).detach();
    EXPECT_EQ(rt_.run(), 1);
    EXPECT_EQ(rt_.stats().unhandled_exceptions, 2u);
}

TEST_F(RuntimeTest, AnExceptionTakenByAJoinIsNotReported) {
    auto h = rt_.spawn(fail);
    EXPECT_THROW(h.wait(), std::runtime_error);
    h = {};
    bool caught = run([]() -> task<bool> {
        auto child = coronet::spawn(fail);
        bool caught = false;
        try {
            co_await child.join();
        } catch (const std::runtime_error&) {
            caught = true;
        }
        co_return caught;
    }());
    EXPECT_TRUE(caught);
    EXPECT_EQ(rt_.run(), 0);
    EXPECT_EQ(rt_.stats().unhandled_exceptions, 0u);
}

TEST_F(RuntimeTest, AnUnjoinedExceptionIsReportedWhenItsHandleGoesAway) {
    auto h = rt_.spawn(fail);
    rt_.run();
    ASSERT_TRUE(h.done());
    h = {};
    EXPECT_EQ(rt_.stats().unhandled_exceptions, 1u);
    EXPECT_EQ(rt_.run(), 1);
}

TEST_F(RuntimeTest, ATerminatedCoroutineIsNotReportedAsUnhandled) {
    coronet::event never;
    auto h = rt_.spawn(wait_for, std::ref(never));
    h.terminate();
    h.detach();
    EXPECT_EQ(rt_.run(), 0);
    EXPECT_EQ(rt_.stats().unhandled_exceptions, 0u);
}

// ------------------------------------------------------------------ stats

TEST_F(RuntimeTest, StatsCountCoroutinesResumptionsAndBlockingJobs) {
    coronet::runtime rt(options());
    constexpr std::uint64_t yielders = 10;
    for (std::uint64_t i = 0; i < yielders; ++i) {
        rt.spawn([]() -> task<void> {
            co_await coronet::yield();
            co_await coronet::yield();
        });
    }
    rt.spawn([]() -> task<void> { co_await coronet::spawn_blocking([] {}); });
    EXPECT_EQ(rt.run(), 0);
    rt.stop();

    auto st = rt.stats();
    EXPECT_EQ(st.spawned, yielders + 1);
    EXPECT_EQ(st.completed, yielders + 1);
    EXPECT_EQ(st.resumes, 3 * yielders + 2);
    EXPECT_EQ(st.blocking_jobs, 1u);
    EXPECT_EQ(st.unhandled_exceptions, 0u);
}

TEST_F(RuntimeTest, ACoroutineThatHoldsItsShardPastTheThresholdIsCountedAsAStall) {
    auto o = options();
    o.stall_threshold = 5ms;
    coronet::runtime rt(o);
    rt.sync_wait([]() -> task<void> {
        std::this_thread::sleep_for(40ms);  // blocks the shard on purpose
        co_await coronet::yield();
    }());
    rt.stop();  // the counters are final once the shards have stopped
    EXPECT_GE(rt.stats().stalls, 1u);
}

TEST_F(RuntimeTest, CoroutinesThatSuspendWithinTheThresholdAreNotStalls) {
    auto o = options();
    o.stall_threshold = 10s;
    coronet::runtime rt(o);
    rt.sync_wait([]() -> task<void> {
        for (int i = 0; i < 100; ++i) co_await coronet::yield();
    }());
    rt.stop();
    EXPECT_GE(rt.stats().resumes, 101u);
    EXPECT_EQ(rt.stats().stalls, 0u);
}

}  // namespace
