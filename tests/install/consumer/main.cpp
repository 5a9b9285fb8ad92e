// Spawns a coroutine on an installed coronet and checks its result.

#include <coronet/coronet.hpp>

#include <chrono>
#include <cstdio>

using namespace std::chrono_literals;

namespace {

coronet::task<int> square(int x) {
    co_await coronet::sleep(1ms);
    co_return x* x;
}

coronet::task<int> sum_of_squares(int n) {
    int sum = 0;
    for (int i = 1; i <= n; ++i) sum += co_await coronet::spawn(square, i).join();
    co_return sum;
}

}  // namespace

int main() {
    coronet::runtime rt(coronet::runtime_options{.shards = 2});
    int sum = rt.spawn(sum_of_squares, 10).wait();
    if (sum != 385) {
        std::fprintf(stderr, "expected 385, got %d\n", sum);
        return 1;
    }
    std::printf("installed coronet works: 1^2 + ... + 10^2 = %d\n", sum);
    return rt.run();
}
