// echo: a TCP echo server and its clients in one program, on loopback. Each
// client sends a text, half-closes its side, and reads the echo to the end.
// Exits 0 when every client got its own text back.
//
//     echo [clients]

#include <coronet/coronet.hpp>

#include <cstdio>
#include <string>
#include <vector>

using coronet::task;

// One connection: whatever comes in goes back out, until the client is done.
task<void> echo(coronet::tcp::stream s) {
    for (;;) {
        std::string data = co_await s.recv_some(4096);
        if (data.empty()) co_return;  // the client half-closed: nothing more will come
        co_await s.send_all(data);
    }
}

task<void> serve(coronet::tcp::listener l) {
    for (;;) coronet::spawn(echo, co_await l.accept());
}

task<bool> client(std::uint16_t port, int id) {
    auto s = co_await coronet::tcp::connect("127.0.0.1", port);
    std::string text = "client " + std::to_string(id) + " says hello";
    co_await s.send_all(text);
    s.shutdown_send();  // the server reads end of stream after the text
    std::string echoed;
    for (std::string part; !(part = co_await s.recv_some(4096)).empty();) echoed += part;
    co_return echoed == text;
}

task<int> demo(int n) {
    // The listener and the connections it accepts belong to this shard.
    auto l = coronet::tcp::listen("127.0.0.1", 0);
    std::uint16_t port = l.port();
    std::printf("echo server on 127.0.0.1:%u\n", static_cast<unsigned>(port));
    auto server = coronet::spawn(serve, std::move(l));

    // The clients run on every shard.
    std::vector<coronet::join_handle<bool>> clients;
    for (int i = 0; i < n; ++i)
        clients.push_back(coronet::spawn_on(i % coronet::shard_count(), client, port, i));
    int good = 0;
    for (auto& c : clients) good += co_await c.join();
    std::printf("%d of %d clients got their echo\n", good, n);
    server.terminate();  // stop accepting
    co_return n - good;
}

int main(int argc, char** argv) {
    coronet::runtime rt;
    int failed = rt.sync_wait(demo(argc > 1 ? std::stoi(argv[1]) : 100));
    return failed == 0 ? 0 : 1;
}
