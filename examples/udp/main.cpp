// udp: a UDP server that answers each datagram, and clients on every shard
// that send it numbered requests. UDP may lose a datagram, so a client that
// hears nothing within a moment sends its request again. Exits 0 when every
// request has had its answer.
//
//     udp [clients] [requests per client]

#include <coronet/coronet.hpp>

#include <cstdio>
#include <string>
#include <vector>

using coronet::task;
using namespace std::chrono_literals;

// Answers every datagram to whoever sent it.
task<void> server(coronet::udp::socket s) {
    for (;;) {
        auto request = co_await s.recv_from();
        co_await s.send_to("answer to " + request.data, request.from);
    }
}

// Sends `n` requests, one at a time; how many were answered.
task<int> client(coronet::udp::endpoint server, int id, int n) {
    auto s = coronet::udp::bind("127.0.0.1", 0);
    s.connect(server);  // answers from anyone else are dropped
    int answered = 0;
    for (int i = 0; i < n; ++i) {
        std::string request = "request " + std::to_string(i) + " of client " + std::to_string(id);
        for (int attempt = 0; attempt < 5; ++attempt) {
            co_await s.send(request);
            auto answer = co_await coronet::with_timeout(200ms, s.recv());
            if (answer && *answer == "answer to " + request) {
                ++answered;
                break;
            }
        }
    }
    co_return answered;
}

task<int> demo(int clients, int requests) {
    auto socket = coronet::udp::bind("127.0.0.1", 0);
    auto at = socket.local_endpoint();
    std::printf("udp server on %s:%u\n", at.address().to_string().c_str(),
                static_cast<unsigned>(at.port()));
    auto answering = coronet::spawn(server, std::move(socket));
    std::vector<coronet::join_handle<int>> running;
    for (int i = 0; i < clients; ++i)
        running.push_back(coronet::spawn_on(i % coronet::shard_count(), client, at, i, requests));
    int answered = 0;
    for (auto& c : running) answered += co_await c.join();
    std::printf("%d of %d requests answered\n", answered, clients * requests);
    answering.terminate();
    co_return clients* requests - answered;
}

int main(int argc, char** argv) {
    int clients = argc > 1 ? std::stoi(argv[1]) : 10;
    int requests = argc > 2 ? std::stoi(argv[2]) : 100;
    coronet::runtime rt;
    return rt.sync_wait(demo(clients, requests)) == 0 ? 0 : 1;
}
