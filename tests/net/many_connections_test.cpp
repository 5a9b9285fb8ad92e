// 10,000 concurrent TCP connections to one server on loopback, client and
// server in separate processes, each connection exchanging framed messages.
// The server is coronet_echo_server, started here.

#include <coronet/net/tcp.hpp>
#include <coronet_test.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using coronet::task;
namespace tcp = coronet::tcp;

constexpr int connections = 10000;
constexpr int messages_before = 3;  // per connection, before all are open
constexpr int connecting_at_once = 512;

/// Raises this process's soft limit on descriptors to the hard one.
rlim_t raise_descriptor_limit() {
    rlimit files{};
    ::getrlimit(RLIMIT_NOFILE, &files);
    files.rlim_cur = files.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &files);
    return files.rlim_cur;
}

/// The server process: started with its standard output on a pipe, killed
/// and reaped when this goes, whatever happened.
class server_process {
public:
    explicit server_process(int expected) {
        int out[2];
        if (::pipe2(out, O_CLOEXEC) != 0) throw std::system_error(errno, std::system_category());
        pid_ = ::fork();
        if (pid_ == 0) {
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // dies with the test
            ::dup2(out[1], STDOUT_FILENO);
            std::string n = std::to_string(expected);
            ::execl(CORONET_ECHO_SERVER, CORONET_ECHO_SERVER, n.c_str(), nullptr);
            ::_exit(127);
        }
        ::close(out[1]);
        out_ = out[0];
        pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
    }
    server_process(const server_process&) = delete;
    server_process& operator=(const server_process&) = delete;
    ~server_process() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        ::close(out_);
        ::close(pidfd_);
    }

    /// The next line it prints, waiting at most `timeout`; empty if none came.
    std::string read_line(std::chrono::milliseconds timeout) {
        std::string line;
        char c;
        pollfd p{out_, POLLIN, 0};
        while (::poll(&p, 1, static_cast<int>(timeout.count())) == 1 && ::read(out_, &c, 1) == 1) {
            if (c == '\n') return line;
            line += c;
        }
        return {};
    }

    /// Its exit status once it has exited by itself within `timeout`, or -1.
    int wait(std::chrono::milliseconds timeout) {
        pollfd p{pidfd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return -1;
        int status = 0;
        if (::waitpid(pid_, &status, 0) != pid_) return -1;
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }

private:
    pid_t pid_ = -1;
    int out_ = -1;
    int pidfd_ = -1;
};

struct tally {
    std::atomic<int> open{0};
    std::atomic<int> peak{0};
    std::atomic<int> ready{0};
    std::atomic<int> good_replies{0};
    std::atomic<int> errors{0};
    coronet::event all_ready;  // every connection has made its first exchanges
    coronet::semaphore connecting{connecting_at_once};
};

task<void> client(tcp::endpoint server, int id, tally& t) {
    bool counted = false;
    try {
        co_await t.connecting.acquire();
        std::optional<tcp::stream> s;
        try {
            s = co_await tcp::connect(server, 30s);
        } catch (...) {
            t.connecting.release();
            throw;
        }
        t.connecting.release();
        int now = ++t.open;
        for (int peak = t.peak; now > peak && !t.peak.compare_exchange_weak(peak, now);) {
        }
        for (int m = 0; m < messages_before; ++m) {
            std::string msg = "connection " + std::to_string(id) + " message " + std::to_string(m);
            co_await s->send_msg(msg);
            t.good_replies += co_await s->recv_msg() == msg;
        }
        counted = true;
        if (++t.ready == connections) t.all_ready.set();
        co_await t.all_ready.wait();  // all 10,000 are open now
        std::string last(100 + id % 900, static_cast<char>('a' + id % 26));
        co_await s->send_msg(last);
        t.good_replies += co_await s->recv_msg() == last;
        --t.open;
    } catch (const std::system_error& e) {
        if (++t.errors <= 5) std::fprintf(stderr, "connection %d: %s\n", id, e.what());
        if (!counted && ++t.ready == connections) t.all_ready.set();
    }
}

TEST(ManyConnectionsTest, TenThousandConcurrentConnectionsToAServerProcess) {
    rlim_t limit = raise_descriptor_limit();
    if (limit < connections + 200) GTEST_SKIP() << "needs " << connections + 200 << " descriptors";

    auto start = std::chrono::steady_clock::now();
    server_process server(connections);
    std::string hello = server.read_line(20s);
    ASSERT_EQ(hello.rfind("port ", 0), 0u) << "the server said: " << hello;
    tcp::endpoint at(asio::ip::make_address("127.0.0.1"),
                     static_cast<std::uint16_t>(std::stoi(hello.substr(5))));

    tally t;
    {
        coronet::runtime_options o;
        o.shards = 2;
        coronet::runtime rt(o);
        for (int id = 0; id < connections; ++id) rt.spawn(client, at, id, std::ref(t));
        EXPECT_EQ(rt.run(), 0);
    }
    int exit_status = server.wait(30s);
    auto took = std::chrono::steady_clock::now() - start;
    std::printf("%d connections (%d open at once), %d replies in %.2f s\n", connections,
                t.peak.load(), t.good_replies.load(), std::chrono::duration<double>(took).count());

    EXPECT_EQ(t.errors, 0);
    EXPECT_EQ(t.peak, connections);
    EXPECT_EQ(t.good_replies, connections * (messages_before + 1));
    EXPECT_EQ(exit_status, 0) << "the server saw every connection end cleanly";
    EXPECT_LT(took, 60s);
}

}  // namespace
