// hot_swap: a server coroutine is given a new function while it runs. It
// keeps its pid, so its clients notice nothing but the new answers. Exits 0
// when the swap took effect.

#include <coronet/coronet.hpp>

#include <cstdio>

struct request {
    coronet::pid from;
    int x;
};

struct answer {
    int version;
    int y;
};

struct stop {};

coronet::task<int> doubler(coronet::self self) {
    self.hot_swappable();  // without this, hot_swap is refused
    for (;;) {
        coronet::message msg = co_await self.receive();  // a swap takes effect here
        if (msg.is<stop>()) co_return 1;
        auto& r = msg.get<request>();
        r.from.send(answer{1, r.x * 2});
    }
}

coronet::task<int> squarer(coronet::self self) {
    for (;;) {
        coronet::message msg = co_await self.receive();
        if (msg.is<stop>()) co_return 2;
        auto& r = msg.get<request>();
        r.from.send(answer{2, r.x * r.x});
    }
}

coronet::task<bool> client(coronet::self self, coronet::pid server) {
    server.send(request{self.pid(), 7});
    answer before = co_await self.receive<answer>();
    std::printf("version %d: f(7) = %d\n", before.version, before.y);

    coronet::swap_result r = co_await coronet::hot_swap(server, squarer);
    std::printf("swap %s\n", r == coronet::swap_result::accepted ? "accepted" : "refused");

    server.send(request{self.pid(), 7});  // the same pid
    answer after = co_await self.receive<answer>();
    std::printf("version %d: f(7) = %d\n", after.version, after.y);
    server.send(stop{});
    co_return before.y == 14 && after.y == 49;
}

int main() {
    coronet::runtime rt;
    auto server = rt.spawn(doubler);
    auto c = rt.spawn(client, coronet::pid(server));
    bool swapped = c.wait();
    int version = server.wait();  // the server ended in its new function
    return swapped && version == 2 ? 0 : 1;
}
