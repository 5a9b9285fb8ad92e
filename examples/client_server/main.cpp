// client_server: ten clients find a server coroutine by its name and send it
// three requests each, waiting for every answer. Prints the exchange and
// exits 0 when all 30 requests were served and answered.

#include <coronet/coronet.hpp>

#include <chrono>
#include <cstdio>
#include <vector>

using namespace std::chrono_literals;

struct request {
    coronet::pid client;
    int client_id;
    int seq;
};

struct answer {
    int seq;
    int served;  // requests the server had served so far
};

coronet::task<int> server(coronet::self self, int expected) {
    self.register_name("server");
    int served = 0;
    while (served < expected) {
        auto msg = co_await self.receive(5s);
        if (!msg) break;  // the clients went quiet
        if (auto r = msg->get_if<request>()) {
            ++served;
            std::printf("server: request %d from client %d\n", r->seq, r->client_id);
            r->client.send(answer{r->seq, served});
        }
    }
    co_return served;
}

coronet::task<int> client(coronet::self self, int id) {
    auto server = co_await coronet::locate("server", 5s);  // waits if it is not registered yet
    if (!server) co_return 0;
    int answered = 0;
    for (int seq = 0; seq < 3; ++seq) {
        server->send(request{self.pid(), id, seq});
        auto a = co_await self.receive<answer>(5s);
        if (a && a->seq == seq) ++answered;
    }
    co_return answered;
}

int main() {
    coronet::runtime rt;
    std::vector<coronet::join_handle<int>> clients;
    for (int id = 0; id < 10; ++id) clients.push_back(rt.spawn(client, id));
    auto srv = rt.spawn(server, 30);

    int answered = 0;
    for (auto& c : clients) answered += c.wait();
    int served = srv.wait();
    std::printf("%d requests served, %d answers received\n", served, answered);
    return served == 30 && answered == 30 ? 0 : 1;
}
