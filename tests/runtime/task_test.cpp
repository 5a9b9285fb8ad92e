#include <coronet_test.hpp>

#include <memory>
#include <stdexcept>
#include <string>

namespace {

using coronet::task;

task<int> value_of(int x) {
    co_return x;
}

task<int> countdown(int n) {
    if (n == 0) co_return 0;
    co_return 1 + co_await countdown(n - 1);
}

task<void> throws() {
    throw std::runtime_error("broken");
    co_return;
}

class TaskTest : public coronet::testing::runtime_test {};

TEST_F(TaskTest, ReturnsItsValueToTheAwaiter) {
    EXPECT_EQ(run(value_of(7)), 7);
}

TEST_F(TaskTest, DoesNotStartUntilAwaited) {
    bool started = false;
    auto make = [&]() -> task<void> {
        started = true;
        co_return;
    };
    run([&]() -> task<void> {
        auto t = make();
        EXPECT_FALSE(started);
        co_await std::move(t);
        EXPECT_TRUE(started);
    }());
}

TEST_F(TaskTest, DeepChainsDoNotGrowTheStack) {
    if (coronet::testing::no_tail_calls)
        GTEST_SKIP() << "this build does not turn symmetric transfer into tail calls";
    EXPECT_EQ(run(countdown(1'000'000)), 1'000'000);
}

TEST_F(TaskTest, CarriesExceptionsToTheAwaiter) {
    EXPECT_THROW(run(throws()), std::runtime_error);
}

TEST_F(TaskTest, HandlesMoveOnlyResults) {
    auto p = run([]() -> task<std::unique_ptr<std::string>> {
        co_return std::make_unique<std::string>("moved");
    }());
    ASSERT_TRUE(p);
    EXPECT_EQ(*p, "moved");
}

TEST_F(TaskTest, HandlesReferenceResults) {
    static int target = 1;
    int& r = run([]() -> task<int&> { co_return target; }());
    EXPECT_EQ(&r, &target);
}

}  // namespace
