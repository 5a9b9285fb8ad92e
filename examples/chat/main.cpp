// chat: a chat server that broadcasts each client's lines to the other
// clients, and a few scripted clients that talk through it, on loopback.
// Messages travel framed by their length (send_msg/recv_msg). Exits 0 when
// every client has read every line the others said.
//
//     chat

#include <coronet/coronet.hpp>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

using coronet::task;
using namespace std::chrono_literals;

// ---------------------------------------------------------------- the server

// A client in the chat. Its mutex keeps the lines of several senders from
// interleaving on its stream.
struct member {
    coronet::tcp::stream stream;
    std::string name;
    coronet::mutex writing;
};

// Who is in the chat. Every coroutine of the server runs on the listener's
// shard, so the room needs no lock. A broadcast holds the members it writes
// to, so one that leaves meanwhile stays valid until it is done. Each member's
// coroutine shares the room: it outlives the accepting loop when the server
// is terminated while members are still leaving.
using room = std::vector<std::shared_ptr<member>>;

task<void> say(member& to, std::string line) {
    auto guard = co_await to.writing.scoped_lock();
    try {
        co_await to.stream.send_msg(line);
    } catch (const std::system_error&) {
        // That member is leaving: its own coroutine notices and takes it out.
    }
}

task<void> broadcast(room& members, const member* from, std::string line) {
    room to = members;  // members may come and go while this one waits
    for (auto& m : to)
        if (m.get() != from) co_await say(*m, line);
}

task<void> serve_member(std::shared_ptr<room> shared, coronet::tcp::stream s) {
    room& members = *shared;
    auto me = std::make_shared<member>();
    me->stream = std::move(s);
    try {
        me->name = co_await me->stream.recv_msg(64);  // its first message: its name
        members.push_back(me);
        std::string here = "welcome:";
        for (auto& m : members) here += " " + m->name;
        co_await say(*me, here);
        co_await broadcast(members, me.get(), me->name + " joined");
        for (;;)
            co_await broadcast(members, me.get(), me->name + ": " + co_await me->stream.recv_msg());
    } catch (const std::system_error&) {
        // The client left (end of stream) or broke the protocol.
    }
    if (std::erase(members, me) > 0) co_await broadcast(members, me.get(), me->name + " left");
}

task<void> chat_server(coronet::tcp::listener l) {
    auto members = std::make_shared<room>();
    for (;;) coronet::spawn(serve_member, members, co_await l.accept());
}

// ---------------------------------------------------------------- the clients

const std::vector<std::string> names{"alice", "bob", "carol"};
constexpr int lines_each = 3;

// Joins; once everybody is in, says its lines; reads the others' until it
// has them all. How many of the others' lines it read.
task<int> chat_client(std::uint16_t port, std::string name) {
    auto s = co_await coronet::tcp::connect("127.0.0.1", port);
    co_await s.send_msg(name);
    std::string welcome = co_await s.recv_msg();  // "welcome: alice bob"
    auto present = std::count(welcome.begin(), welcome.end(), ' ');
    int heard = 0;
    int said = 0;
    while (heard < lines_each * static_cast<int>(names.size() - 1)) {
        if (present == static_cast<long>(names.size()) && said < lines_each) {
            co_await s.send_msg("line " + std::to_string(++said) + " from " + name);
        } else if (auto line = co_await coronet::with_timeout(5s, s.recv_msg())) {
            std::printf("  %s reads: %s\n", name.c_str(), line->c_str());
            if (line->ends_with(" joined")) ++present;
            if (line->find(": line ") != std::string::npos) ++heard;
        } else {
            break;  // the server went quiet
        }
    }
    co_return heard;
}

task<int> demo() {
    auto l = coronet::tcp::listen("127.0.0.1", 0);
    std::uint16_t port = l.port();
    auto server = coronet::spawn(chat_server, std::move(l));
    std::vector<coronet::join_handle<int>> clients;
    for (const auto& name : names) clients.push_back(coronet::spawn(chat_client, port, name));
    int complete = 0;
    for (auto& c : clients) complete += co_await c.join() == lines_each * 2;
    std::printf("%d of %zu clients heard everybody\n", complete, names.size());
    server.terminate();
    co_return static_cast<int>(names.size()) - complete;
}

int main() {
    coronet::runtime rt;
    return rt.sync_wait(demo()) == 0 ? 0 : 1;
}
