// channel: a publisher broadcasts the numbers 1..10 on a channel; two
// subscribers, one adding them up and one multiplying them, read until an end
// marker. Exits 0 when both results are right.

#include <coronet/coronet.hpp>

#include <chrono>
#include <cstdio>

using namespace std::chrono_literals;

struct end_marker {};

coronet::task<long> sum(coronet::self self, coronet::channel numbers) {
    numbers.subscribe(self.pid());
    long total = 0;
    while (auto msg = co_await self.receive(5s)) {
        if (msg->is<end_marker>()) co_return total;
        total += msg->get<long>();
    }
    co_return -1;  // the publisher went quiet
}

coronet::task<long> product(coronet::self self, coronet::channel numbers) {
    numbers.subscribe(self.pid());
    long total = 1;
    while (auto msg = co_await self.receive(5s)) {
        if (msg->is<end_marker>()) co_return total;
        total *= msg->get<long>();
    }
    co_return -1;
}

coronet::task<void> publish(coronet::channel numbers, long n) {
    // The first number waits until both subscribers are there.
    std::size_t reached = co_await numbers.deliver(1L, 2, 5s);
    std::printf("publisher: the first number reached %zu subscribers\n", reached);
    for (long i = 2; i <= n; ++i) numbers.send(i);
    numbers.send(end_marker{});
    numbers.close();
}

int main() {
    coronet::runtime rt;
    auto numbers = coronet::channel::create(rt, "numbers");
    auto s = rt.spawn(sum, numbers);
    auto p = rt.spawn(product, numbers);
    auto publisher = rt.spawn(publish, numbers, 10L);

    long total = s.wait();
    long prod = p.wait();
    publisher.wait();
    std::printf("sum of 1..10: %ld, product: %ld\n", total, prod);
    return total == 55 && prod == 3'628'800 ? 0 : 1;
}
