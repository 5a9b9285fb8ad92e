#include <coronet_probes.hpp>
#include <coronet_test.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
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
using coronet::testing::gate;

class SpawnBlockingTest : public coronet::testing::runtime_test {
protected:
    static coronet::runtime_options with_pool(unsigned threads) {
        auto o = options();
        o.blocking_threads = threads;
        return o;
    }
};

/// Counts the blocking calls running at once and keeps the highest count.
/// Its waits are for pool threads and the test's thread, never for shards.
class concurrency_meter {
public:
    void enter() {
        std::lock_guard guard(mutex_);
        ++running_;
        ++entered_;
        peak_ = std::max(peak_, running_);
        cv_.notify_all();
    }
    void leave() {
        std::lock_guard guard(mutex_);
        --running_;
    }
    /// Blocks until release(), for at most `limit`.
    void hold(std::chrono::milliseconds limit = 10s) {
        std::unique_lock lock(mutex_);
        cv_.wait_for(lock, limit, [&] { return released_; });
    }
    void release() {
        {
            std::lock_guard guard(mutex_);
            released_ = true;
        }
        cv_.notify_all();
    }
    /// Waits until `n` calls run at once, for at most `limit`; false if they do not.
    bool wait_running(int n, std::chrono::milliseconds limit) {
        std::unique_lock lock(mutex_);
        return cv_.wait_for(lock, limit, [&] { return running_ >= n; });
    }
    /// Waits until `n` calls have entered in all, for at most `limit`.
    bool wait_entered(int n, std::chrono::milliseconds limit) {
        std::unique_lock lock(mutex_);
        return cv_.wait_for(lock, limit, [&] { return entered_ >= n; });
    }
    int peak() {
        std::lock_guard guard(mutex_);
        return peak_;
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    int running_ = 0;
    int entered_ = 0;
    int peak_ = 0;
    bool released_ = false;
};

// ------------------------------------------------------------------ results

TEST_F(SpawnBlockingTest, ReturnsTheResultOfTheCall) {
    EXPECT_EQ(
        run([]() -> task<std::string> {
            co_return co_await coronet::spawn_blocking([] { return std::string("looked up"); });
        }()),
        "looked up");
}

TEST_F(SpawnBlockingTest, RunsAVoidCall) {
    std::atomic<bool> ran{false};
    run([&]() -> task<void> { co_await coronet::spawn_blocking([&ran] { ran = true; }); }());
    EXPECT_TRUE(ran.load());
}

TEST_F(SpawnBlockingTest, RethrowsTheExceptionOfTheCall) {
    EXPECT_THROW(run([]() -> task<int> {
                     co_return co_await coronet::spawn_blocking(
                         []() -> int { throw std::domain_error("no such key"); });
                 }()),
                 std::domain_error);
}

TEST_F(SpawnBlockingTest, RunsTheCallOffTheShardAndResumesTheCallerOnIt) {
    struct seen {
        std::thread::id shard_thread, call_thread, resumed_thread;
        bool call_on_a_shard;
        unsigned shard_before, shard_after;
    };
    for (unsigned s = 0; s < 2; ++s) {
        auto r = rt_.spawn_on(s,
                              []() -> task<seen> {
                                  seen r{};
                                  r.shard_thread = std::this_thread::get_id();
                                  r.shard_before = coronet::this_shard();
                                  std::tie(r.call_thread, r.call_on_a_shard) =
                                      co_await coronet::spawn_blocking([] {
                                          bool on_shard = coronet::detail::this_shard_index() >= 0;
                                          return std::pair{std::this_thread::get_id(), on_shard};
                                      });
                                  r.resumed_thread = std::this_thread::get_id();
                                  r.shard_after = coronet::this_shard();
                                  co_return r;
                              })
                     .wait();
        EXPECT_NE(r.call_thread, r.shard_thread);
        EXPECT_NE(r.call_thread, std::this_thread::get_id());
        EXPECT_FALSE(r.call_on_a_shard);
        EXPECT_EQ(r.resumed_thread, r.shard_thread);
        EXPECT_EQ(r.shard_before, s);
        EXPECT_EQ(r.shard_after, s);
    }
}

TEST_F(SpawnBlockingTest, CountsItsCallsInTheStats) {
    coronet::runtime rt(options());
    rt.sync_wait([]() -> task<void> {
        for (int i = 0; i < 3; ++i) co_await coronet::spawn_blocking([] {});
    }());
    EXPECT_EQ(rt.stats().blocking_jobs, 3u);
}

// ------------------------------------------------------------------ the pool

TEST_F(SpawnBlockingTest, NeverRunsMoreCallsAtOnceThanThePoolAllows) {
    concurrency_meter meter;
    coronet::runtime rt(with_pool(2));
    constexpr int calls = 8;
    std::vector<coronet::join_handle<int>> handles;
    for (int i = 0; i < calls; ++i) {
        handles.push_back(rt.spawn_on(
            i % 2,
            [&meter](int i) -> task<int> {
                co_return co_await coronet::spawn_blocking([&meter, i] {
                    meter.enter();
                    meter.hold();
                    meter.leave();
                    return i;
                });
            },
            i));
    }
    bool two = meter.wait_running(2, 10s);
    // Every call is queued by now or soon; a third one must not start.
    bool three = two && meter.wait_running(3, 200ms);
    meter.release();
    EXPECT_TRUE(two) << "the pool did not run two calls at once";
    EXPECT_FALSE(three) << "the pool ran more calls at once than blocking_threads";
    for (int i = 0; i < calls; ++i) EXPECT_EQ(handles[i].wait(), i);
    EXPECT_EQ(meter.peak(), 2);
}

TEST_F(SpawnBlockingTest, CallsUpToThePoolBoundRunAtOnceEvenWithAnIdleThread) {
    concurrency_meter meter;
    coronet::runtime rt(with_pool(2));
    rt.sync_wait(
        []() -> task<void> { co_await coronet::spawn_blocking([] {}); }());  // one idle thread
    auto together = rt.spawn_on(0, [&meter]() -> task<int> {
                          auto call = [&meter]() -> task<bool> {
                              co_return co_await coronet::spawn_blocking([&meter] {
                                  meter.enter();
                                  // The other call can enter only while this one runs.
                                  bool both = meter.wait_entered(2, 5s);
                                  meter.leave();
                                  return both;
                              });
                          };
                          auto a = coronet::spawn(call);
                          auto b = coronet::spawn(call);
                          int n = 0;
                          n += co_await a.join();
                          n += co_await b.join();
                          co_return n;
                      }).wait();
    EXPECT_EQ(together, 2) << "a call waited in the queue while the pool had room";
}

TEST_F(SpawnBlockingTest, CallsBeyondThePoolRunInTheOrderTheyCame) {
    coronet::runtime rt(with_pool(1));
    gate hold;
    std::mutex mutex;
    std::vector<int> order;
    rt.spawn_on(0, [&]() -> task<void> {
          std::vector<coronet::join_handle<void>> calls;
          for (int i = 0; i < 6; ++i) {
              calls.push_back(coronet::spawn([&, i]() -> task<void> {
                  co_await coronet::spawn_blocking([&, i] {
                      if (i == 0) hold.wait();  // the others queue up behind it
                      std::lock_guard guard(mutex);
                      order.push_back(i);
                  });
              }));
          }
          co_await coronet::yield();  // every call has been submitted
          hold.open();
          for (auto& c : calls) co_await c.join();
      }).wait();
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5}));
}

// ------------------------------------------------------------------ cancellation

TEST_F(SpawnBlockingTest, TerminatingTheCallerWithdrawsAQueuedCall) {
    coronet::runtime rt(with_pool(1));
    gate hold;
    std::atomic<bool> queued_call_ran{false};
    std::atomic<int> unwound{0};
    bool withdrawn = rt.spawn_on(0, [&]() -> task<bool> {
                           auto first = coronet::spawn([&]() -> task<void> {
                               co_await coronet::spawn_blocking([&] { hold.wait(); });
                           });
                           auto second = coronet::spawn([&]() -> task<void> {
                               destruction_probe probe(unwound);
                               co_await coronet::spawn_blocking([&] { queued_call_ran = true; });
                           });
                           co_await coronet::yield();  // the first call runs, the second queues
                           second.terminate();
                           bool withdrawn = false;
                           try {
                               co_await coronet::with_timeout(10s, second.join());
                           } catch (const coronet::terminated&) {
                               withdrawn = true;
                           }
                           hold.open();
                           co_await first.join();
                           co_return withdrawn;
                       }).wait();
    EXPECT_TRUE(withdrawn) << "the caller stayed until the queued call could run";
    EXPECT_EQ(unwound.load(), 1);
    rt.stop();
    EXPECT_FALSE(queued_call_ran.load());
    EXPECT_EQ(rt.stats().blocking_jobs, 1u);
}

TEST_F(SpawnBlockingTest, TerminatingTheCallerWaitsForARunningCallAndDropsItsResult) {
    gate hold;
    coronet::event started;
    std::atomic<bool> went_on{false};
    std::atomic<bool> call_finished{false};
    std::atomic<int> unwound{0};
    bool terminated = run([&]() -> task<bool> {
        auto caller = coronet::spawn([&]() -> task<int> {
            destruction_probe probe(unwound);
            int v = co_await coronet::spawn_blocking([&] {
                started.set();
                hold.wait();
                call_finished = true;
                return 5;
            });
            went_on = true;
            co_return v;
        });
        co_await started.wait();
        caller.terminate();  // on the caller's shard: in effect now, while the call runs
        hold.open();
        bool terminated = false;
        try {
            co_await caller.join();
        } catch (const coronet::terminated&) {
            terminated = true;
        }
        co_return terminated;
    }());
    EXPECT_TRUE(call_finished.load()) << "the caller ended before the running call";
    EXPECT_TRUE(terminated) << "the caller got the result of the call";
    EXPECT_FALSE(went_on.load());
    EXPECT_EQ(unwound.load(), 1);
}

TEST_F(SpawnBlockingTest, ManyCallersOnBothShardsStress) {
    coronet::runtime rt(with_pool(4));
    constexpr int per_caller = coronet::testing::rounds(2'000, 200);
    constexpr int callers = 16;
    std::vector<coronet::join_handle<long>> handles;
    for (int c = 0; c < callers; ++c) {
        handles.push_back(rt.spawn_on(c % 2, []() -> task<long> {
            long sum = 0;
            for (int i = 0; i < per_caller; ++i)
                sum += co_await coronet::spawn_blocking([i] { return i; });
            co_return sum;
        }));
    }
    for (auto& h : handles)
        EXPECT_EQ(h.wait(), static_cast<long>(per_caller) * (per_caller - 1) / 2);
    rt.stop();
    EXPECT_EQ(rt.stats().blocking_jobs, static_cast<std::uint64_t>(callers) * per_caller);
}

}  // namespace
