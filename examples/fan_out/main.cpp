#include <coronet/coronet.hpp>

#include <chrono>
#include <cstdio>
#include <vector>

using namespace std::chrono_literals;

// A coroutine reads like sequential code; sleep suspends it, not its thread.
coronet::task<int> fetch(int id) {
    co_await coronet::sleep(100ms);  // stands in for a network call
    co_return id % 10;
}

coronet::task<void> fan_out(int n) {
    std::vector<coronet::join_handle<int>> calls;
    for (int i = 0; i < n; ++i) calls.push_back(coronet::spawn(fetch, i));  // all run at once
    long sum = 0;
    for (auto& call : calls) sum += co_await call.join();
    std::printf("%d calls, sum %ld\n", n, sum);
}

int main() {
    coronet::runtime rt;  // one shard (a thread and its event loop) per core
    rt.spawn(fan_out, 10'000);
    return rt.run();  // returns once every coroutine has ended
}
