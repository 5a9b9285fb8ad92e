// coronet_echo_server: the server side of the many-connections test, in a
// process of its own. It listens on 127.0.0.1 (a port the system picks, one
// listener per shard sharing it), prints "port <n>" on a line, and echoes
// every framed message back on its connection. Once the number of
// connections given as its argument have come and gone it exits: 0 if
// every one of them ended cleanly, 1 otherwise.

#include <coronet/coronet.hpp>

#include <sys/resource.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using coronet::task;
namespace tcp = coronet::tcp;

struct tally {
    long expected = 0;
    std::atomic<long> finished{0};
    std::atomic<long> failed{0};
    coronet::event all_done;
};

task<void> echo(tcp::stream s, tally& t) {
    try {
        for (;;) co_await s.send_msg(co_await s.recv_msg());
    } catch (const std::system_error& e) {
        if (e.code() != coronet::errc::end_of_stream) {
            std::fprintf(stderr, "echo: %s\n", e.what());
            ++t.failed;
        }
    }
    if (++t.finished == t.expected) t.all_done.set();
}

task<void> accept_loop(tcp::listener l, tally& t) {
    for (;;) coronet::spawn(echo, co_await l.accept(), std::ref(t));
}

tcp::listen_options shared_port() {
    tcp::listen_options o;
    o.backlog = 4096;
    o.reuse_port = true;
    return o;
}

}  // namespace

int main(int argc, char** argv) {
    tally t;
    t.expected = argc > 1 ? std::atol(argv[1]) : 1;
    rlimit files{};
    if (::getrlimit(RLIMIT_NOFILE, &files) == 0) {
        files.rlim_cur = files.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &files);
    }

    coronet::runtime_options o;
    o.shards = 2;
    coronet::runtime rt(o);
    std::uint16_t port = 0;
    std::vector<coronet::join_handle<void>> loops;
    for (unsigned shard = 0; shard < rt.shard_count(); ++shard) {
        auto l = rt.spawn_on(shard, [port]() -> task<tcp::listener> {
                       co_return tcp::listen("127.0.0.1", port, shared_port());
                   }).wait();
        port = l.port();
        loops.push_back(rt.spawn_on(shard, accept_loop, std::move(l), std::ref(t)));
        loops.back().set_daemon();
    }
    std::printf("port %u\n", static_cast<unsigned>(port));
    std::fflush(stdout);

    rt.spawn([&t]() -> task<void> { co_await t.all_done.wait(); });
    rt.run();
    std::printf("served %ld connections, %ld failed\n", t.finished.load(), t.failed.load());
    return t.failed == 0 ? 0 : 1;
}
