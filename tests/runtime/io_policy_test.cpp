#include <gtest/gtest.h>
#include <coronet/runtime/io_policy.hpp>

#include <chrono>

namespace {

using namespace std::chrono_literals;
using coronet::io_mode;
using coronet::io_policy_options;
using coronet::detail::blocking_key_state;
using coronet::detail::speculation;

const io_policy_options defaults{};

TEST(BlockingKeyStateTest, StartsInline) {
    blocking_key_state key;
    EXPECT_TRUE(key.run_inline(io_mode::adaptive, 0, defaults));
}

TEST(BlockingKeyStateTest, ThreeSlowSamplesMoveTheKeyToOffload) {
    blocking_key_state key;
    EXPECT_FALSE(key.record(2ms, defaults));
    EXPECT_FALSE(key.record(2ms, defaults));
    EXPECT_TRUE(key.record(2ms, defaults));
    EXPECT_FALSE(key.run_inline(io_mode::adaptive, 0, defaults));
}

TEST(BlockingKeyStateTest, ALongRunOfFastSamplesBringsItBack) {
    blocking_key_state key;
    for (int i = 0; i < 3; ++i) key.record(2ms, defaults);
    ASSERT_FALSE(key.is_inline());
    int samples = 0;
    while (!key.is_inline() && samples < 1000) {
        key.record(10us, defaults);
        ++samples;
    }
    EXPECT_TRUE(key.is_inline());
    EXPECT_LE(samples, 256);
    EXPECT_GE(samples, 128) << "a few fast calls must not bring a slow key back";
}

TEST(BlockingKeyStateTest, AlternatingSamplesNearAThresholdDoNotMakeItFlap) {
    for (auto [low, high] : {std::pair{900us, 1100us}, std::pair{40us, 60us}}) {
        blocking_key_state key;
        int switches = 0;
        for (int i = 0; i < 2000; ++i) switches += key.record(i % 2 ? high : low, defaults);
        EXPECT_LE(switches, 1) << "around " << low.count() << "-" << high.count() << " us";
    }
}

TEST(BlockingKeyStateTest, ASaturatedShardOffloadsEvenFastKeys) {
    blocking_key_state key;
    key.record(1us, defaults);
    EXPECT_TRUE(key.run_inline(io_mode::adaptive, defaults.saturated_above, defaults));
    EXPECT_FALSE(key.run_inline(io_mode::adaptive, defaults.saturated_above + 1, defaults));
}

TEST(BlockingKeyStateTest, ForcedModesIgnoreMeasurements) {
    blocking_key_state key;
    for (int i = 0; i < 10; ++i) key.record(10ms, defaults);
    EXPECT_TRUE(key.run_inline(io_mode::always_sync, 1000, defaults));
    blocking_key_state fast;
    EXPECT_FALSE(fast.run_inline(io_mode::always_async, 0, defaults));
}

TEST(BlockingKeyStateTest, AStallOffloadsAtOnce) {
    blocking_key_state key;
    EXPECT_TRUE(key.force_offload(50ms));
    EXPECT_FALSE(key.is_inline());
    EXPECT_GE(key.mean(), 50ms);
}

/// Records `took` until the key is inline again (at most `limit` samples); the
/// samples it took.
int samples_until_inline(blocking_key_state& key, std::chrono::nanoseconds took,
                         int limit = 100000) {
    int samples = 0;
    while (!key.is_inline() && samples < limit) {
        key.record(took, defaults);
        ++samples;
    }
    return samples;
}

TEST(BlockingKeyStateTest, OneStallCostsARunOfFastCallsNotTheRestOfTheRun) {
    blocking_key_state key;
    key.force_offload(200ms);  // the first call of the run warmed a cold cache
    EXPECT_EQ(samples_until_inline(key, 10us), static_cast<int>(defaults.inline_after));
    for (int i = 0; i < 1000; ++i) EXPECT_FALSE(key.record(10us, defaults));
    EXPECT_TRUE(key.is_inline());
    EXPECT_LT(key.mean(), 50us);
}

TEST(BlockingKeyStateTest, ARareSlowCallOffloadedDelaysTheReturnALittle) {
    blocking_key_state key;
    key.force_offload(10ms);
    int samples = 0;
    while (!key.is_inline() && samples < 100000) {
        key.record(++samples % 50 == 0 ? 5ms : 10us, defaults);
    }
    EXPECT_TRUE(key.is_inline());
    EXPECT_LE(samples, 200);
}

TEST(BlockingKeyStateTest, AKeySlowOneCallInFourStaysOffloaded) {
    blocking_key_state key;
    for (int i = 0; i < 3; ++i) key.record(2ms, defaults);
    ASSERT_FALSE(key.is_inline());
    for (int i = 0; i < 10000; ++i) key.record(i % 4 == 0 ? 2ms : 10us, defaults);
    EXPECT_FALSE(key.is_inline());
}

TEST(BlockingKeyStateTest, AKeyThatKeepsStallingWaitsLongerAndALongStayInlineShortensItAgain) {
    blocking_key_state key;
    const int run = static_cast<int>(defaults.inline_after);
    key.force_offload(10ms);
    EXPECT_EQ(samples_until_inline(key, 10us), run);
    key.force_offload(10ms);  // at once again
    EXPECT_EQ(samples_until_inline(key, 10us), 2 * run);
    key.force_offload(10ms);
    EXPECT_EQ(samples_until_inline(key, 10us), 4 * run);
    for (int i = 0; i < 8 * run; ++i) key.record(10us, defaults);  // a long stay inline
    key.force_offload(10ms);
    EXPECT_EQ(samples_until_inline(key, 10us), 4 * run);
    for (int i = 0; i < 100; ++i) {
        key.force_offload(10ms);
        samples_until_inline(key, 10us);
    }
    key.force_offload(10ms);
    EXPECT_EQ(samples_until_inline(key, 10us), 32 * run) << "the run stops growing";
}

TEST(BlockingKeyStateTest, ACallThatComputesMakesItsKeyCpuBound) {
    blocking_key_state key;
    EXPECT_FALSE(key.cpu_bound());
    EXPECT_TRUE(key.record_cpu(10ms, 9ms, true)) << "the first sample decides";
    EXPECT_TRUE(key.cpu_bound());
}

TEST(BlockingKeyStateTest, AKeyWhoseFirstCallOnlySetALibraryUpIsBackWithinAFewCalls) {
    blocking_key_state key;
    key.record_cpu(1ms, 900us, true);
    int calls = 0;
    while (key.cpu_bound() && calls < 50) {
        key.record_cpu(1ms, 10us, true);
        ++calls;
    }
    EXPECT_FALSE(key.cpu_bound());
    EXPECT_LE(calls, 5);
}

TEST(BlockingKeyStateTest, ACallThatNeverBlockedComputedWhateverItsShareOfTheWallTime) {
    blocking_key_state key;
    // 2 ms on a core in 10 ms: the rest was spent waiting for one.
    EXPECT_TRUE(key.record_cpu(10ms, 2ms, false));
    EXPECT_TRUE(key.cpu_bound());
}

TEST(BlockingKeyStateTest, ACallThatWaitedForACoreComputedForTheRestOfTheTime) {
    blocking_key_state key;
    // 10 ms, 7 of them ready to run but waiting for a core and 3 on one; it
    // blocked once (on a lock, say): it computed.
    EXPECT_TRUE(key.record_cpu(10ms, 3ms, true, 7ms));
    EXPECT_TRUE(key.cpu_bound());
    blocking_key_state waiting;
    // 10 ms, 1 of them waiting for a core and 1 on one: it waited on something.
    EXPECT_FALSE(waiting.record_cpu(10ms, 1ms, true, 1ms));
    EXPECT_FALSE(waiting.cpu_bound());
}

TEST(BlockingKeyStateTest, ACallThatWaitsLeavesItsKeyUnbounded) {
    blocking_key_state key;
    for (int i = 0; i < 20; ++i) EXPECT_FALSE(key.record_cpu(10ms, 300us, true));
    EXPECT_FALSE(key.cpu_bound());
}

TEST(BlockingKeyStateTest, TheCpuShareHasHysteresis) {
    blocking_key_state key;
    key.record_cpu(10ms, 10ms, true);
    // Shares between a quarter and a half change nothing, either way.
    for (int i = 0; i < 50; ++i) key.record_cpu(10ms, i % 2 ? 3ms : 4500us, true);
    EXPECT_TRUE(key.cpu_bound());
    int waits = 0;
    while (key.cpu_bound() && waits < 50) {
        key.record_cpu(10ms, 0ms, true);
        ++waits;
    }
    EXPECT_FALSE(key.cpu_bound());
    EXPECT_GE(waits, 2) << "one call that waited does not move a computing key";
    for (int i = 0; i < 50; ++i) key.record_cpu(10ms, i % 2 ? 3ms : 4500us, true);
    EXPECT_FALSE(key.cpu_bound());
}

TEST(BlockingKeyStateTest, TimesTheCpuOfTheFirstCallsThenOneInFour) {
    blocking_key_state key;
    int sampled = 0;
    for (int i = 0; i < 8; ++i) {
        bool s = key.sample_cpu();
        if (s) key.record_cpu(1ms, 0ms, true);
        sampled += s;
    }
    EXPECT_EQ(sampled, 8);
    sampled = 0;
    for (int i = 0; i < 400; ++i) sampled += key.sample_cpu();
    EXPECT_EQ(sampled, 100);
}

TEST(SpeculationTest, TriesFirstWhileAttemptsHit) {
    speculation s;
    for (int i = 0; i < 100; ++i) {
        ASSERT_TRUE(s.try_first(io_mode::adaptive, defaults));
        s.record(true);
    }
}

TEST(SpeculationTest, StopsTryingWhenAttemptsKeepMissingButProbes) {
    speculation s;
    int misses = 0;
    while (s.try_first(io_mode::adaptive, defaults)) {
        s.record(false);
        ASSERT_LT(++misses, 100);
    }
    EXPECT_GE(misses, 10) << "one slow stretch must not turn speculation off";
    // Skipping now, with a probe every probe_every operations.
    int tries = 0;
    for (unsigned i = 0; i < defaults.probe_every * 4; ++i) {
        if (s.try_first(io_mode::adaptive, defaults)) {
            ++tries;
            s.record(false);
        }
    }
    EXPECT_EQ(tries, 4);
}

TEST(SpeculationTest, ProbesThatHitTurnSpeculationBackOn) {
    speculation s;
    while (s.try_first(io_mode::adaptive, defaults)) s.record(false);
    int probes = 0;
    for (int i = 0; i < 10000 && s.rate() < defaults.skip_below; ++i) {
        if (s.try_first(io_mode::adaptive, defaults)) {
            ++probes;
            s.record(true);
        }
    }
    EXPECT_GE(s.rate(), defaults.skip_below);
    EXPECT_LE(probes, 3);
}

TEST(SpeculationTest, ForcedModesAlwaysOrNeverTry) {
    speculation s;
    for (int i = 0; i < 50; ++i) s.record(false);
    EXPECT_TRUE(s.try_first(io_mode::always_sync, defaults));
    speculation fresh;
    EXPECT_FALSE(fresh.try_first(io_mode::always_async, defaults));
}

}  // namespace
