// The TCP echo workloads' load generator (a plain epoll loop, the same for
// every server) and the way it starts, measures and stops each server.

#include "echo.hpp"
#include "measure.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace coronet::bench {
namespace {

// The peers' programs (empty: not built).
constexpr const char* go_echo = CORONET_BENCH_GO_ECHO;
constexpr const char* python = CORONET_BENCH_PYTHON;
constexpr const char* python_echo = CORONET_BENCH_PYTHON_ECHO;

/// How a server's program says that it cannot run here (a missing module).
constexpr int server_unavailable_status = 4;

/// The server runs on core 1, the load generator on core 0 (on one core
/// both share it).
constexpr unsigned client_core = 0;
constexpr unsigned server_core = 1;

/// Connections opened at once: so many are warmed up before more are opened,
/// which keeps every server's accept queue short.
constexpr unsigned connect_batch = 256;

std::string os_error(const char* what) {
    return std::string(what) + ": " + std::strerror(errno);
}

void pin_to_core(unsigned core) {
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(core % static_cast<unsigned>(cores > 0 ? cores : 1), &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) throw failure(os_error("sched_setaffinity"));
}

/// 10,000 connections need more descriptors than the usual soft limit.
void raise_descriptor_limit() {
    rlimit lim{};
    if (getrlimit(RLIMIT_NOFILE, &lim) != 0) throw failure(os_error("getrlimit"));
    lim.rlim_cur = lim.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &lim) != 0) throw failure(os_error("setrlimit"));
}

/// The program that runs `s` (empty for the C++ servers, which are forked).
std::vector<std::string> server_program(echo_server s) {
    switch (s) {
        case echo_server::go:
            if (!*go_echo || access(go_echo, X_OK) != 0)
                throw unavailable("the Go peer was not built (no `go` when configuring)");
            return {go_echo};
        case echo_server::uvloop_protocol:
            return {python, python_echo, "uvloop_protocol"};
        case echo_server::uvloop_streams:
            return {python, python_echo, "uvloop_streams"};
        case echo_server::asyncio_streams:
            return {python, python_echo, "asyncio_streams"};
        default:
            return {};
    }
}

/// In the forked child: becomes server `s`; never returns.
[[noreturn]] void become_server(echo_server s, const std::vector<std::string>& program) {
    try {
        if (program.empty()) {
            if (s == echo_server::epoll) serve_echo_epoll();
            if (s == echo_server::asio) serve_echo_asio();
            serve_echo_coronet(s);
        }
        if (s == echo_server::go) setenv("GOMAXPROCS", "1", 1);
        std::vector<char*> argv;
        for (const std::string& a : program) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        execvp(argv[0], argv.data());
        std::fprintf(stderr, "%s\n", os_error(program[0].c_str()).c_str());
        _exit(server_unavailable_status);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "echo server: %s\n", e.what());
    }
    _exit(3);
}

/// A server in a child process, killed when this goes.
class server_process {
public:
    explicit server_process(echo_server s) {
        std::vector<std::string> program = server_program(s);
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) != 0) throw failure(os_error("pipe"));
        std::fflush(nullptr);
        pid_ = fork();
        if (pid_ < 0) throw failure(os_error("fork"));
        if (pid_ == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);  // not left behind if the worker dies
            pin_to_core(server_core);
            dup2(fds[1], STDOUT_FILENO);
            become_server(s, program);
        }
        close(fds[1]);
        std::string line;
        char c = 0;
        while (read(fds[0], &c, 1) == 1 && c != '\n') line += c;
        close(fds[0]);
        port_ = static_cast<std::uint16_t>(std::strtoul(line.c_str(), nullptr, 10));
        if (port_ == 0) {
            int status = stop();
            if (WIFEXITED(status) && WEXITSTATUS(status) == server_unavailable_status)
                throw unavailable("the server cannot run here (see above)");
            throw failure("the server printed no port: '" + line + "'");
        }
    }
    server_process(const server_process&) = delete;
    server_process& operator=(const server_process&) = delete;
    ~server_process() { stop(); }

    std::uint16_t port() const noexcept { return port_; }

    /// Its CPU time so far, user and system, all its threads (/proc/PID/stat).
    double cpu_seconds() const {
        std::ifstream in("/proc/" + std::to_string(pid_) + "/stat");
        std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        std::size_t paren = stat.rfind(')');
        if (paren == std::string::npos) throw failure("cannot read the server's /proc/PID/stat");
        // After the command's ')': state (field 3), ..., utime (14), stime (15).
        std::istringstream fields(stat.substr(paren + 1));
        std::string field;
        double ticks = 0;
        for (int i = 3; i <= 15 && fields >> field; ++i)
            if (i >= 14) ticks += std::strtod(field.c_str(), nullptr);
        return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
    }

    /// Kills it (if still running) and returns its wait status.
    int stop() noexcept {
        int status = 0;
        if (pid_ > 0) {
            kill(pid_, SIGKILL);
            while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
            }
            pid_ = -1;
        }
        return status;
    }

private:
    pid_t pid_ = -1;
    std::uint16_t port_ = 0;
};

/// The load generator: connections to one port, each with one request in
/// flight at a time, on one epoll loop. Streaming connections send a big
/// message after another as fast as the server echoes them, uncounted.
class load_generator {
public:
    explicit load_generator(std::uint16_t port) : port_(port), request_(stream_message_bytes) {
        for (std::size_t i = 0; i < request_.size(); ++i)
            request_[i] = static_cast<char>('a' + i % 26);
        epoll_ = epoll_create1(EPOLL_CLOEXEC);
        if (epoll_ < 0) throw failure(os_error("epoll_create1"));
    }
    load_generator(const load_generator&) = delete;
    load_generator& operator=(const load_generator&) = delete;
    ~load_generator() {
        for (connection& c : conns_) close(c.fd);
        close(epoll_);
    }

    /// Opens `count` connections, a batch at a time, each batch warmed up
    /// by one request per connection.
    void connect(unsigned count) {
        conns_.reserve(count);
        while (conns_.size() < count) {
            std::size_t begin = conns_.size();
            std::size_t end = std::min<std::size_t>(count, begin + connect_batch);
            while (conns_.size() < end) open_one(echo_message_bytes, false);
            run(begin, end, end - begin, nullptr);
        }
    }

    /// Opens `count` streaming connections, which start with the next run.
    void open_streams(unsigned count) {
        for (unsigned i = 0; i < count; ++i) open_one(stream_message_bytes, true);
    }

    /// Makes `requests` requests over all the connections; the round trip of
    /// each, in ns, goes to `latencies`.
    void run(std::uint64_t requests, std::vector<std::uint32_t>* latencies) {
        run(0, conns_.size(), requests, latencies);
    }

private:
    struct connection {
        int fd = -1;
        bool waiting_to_send = false;  // EPOLLOUT is on
        bool in_flight = false;        // a request is out, its echo not all in
        bool streaming = false;
        std::size_t sent = 0;
        std::size_t got = 0;
        clock::time_point start{};
        std::vector<char> echo;  // as big as its requests
    };

    void open_one(std::size_t message_bytes, bool streaming) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) throw failure(os_error("socket"));
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(port_);
        to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
            std::string error = os_error("connect");
            close(fd);
            throw failure(error);
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        conns_.push_back(
            {.fd = fd, .streaming = streaming, .echo = std::vector<char>(message_bytes)});
        watch(EPOLL_CTL_ADD, conns_.size() - 1, EPOLLIN);
    }

    void watch(int op, std::size_t i, std::uint32_t events) {
        epoll_event ev{};
        ev.events = events;
        ev.data.u64 = i;
        if (epoll_ctl(epoll_, op, conns_[i].fd, &ev) != 0) throw failure(os_error("epoll_ctl"));
    }

    void start_request(std::size_t i) {
        connection& c = conns_[i];
        c.in_flight = true;
        c.sent = 0;
        c.got = 0;
        c.start = clock::now();
        send_rest(i);
    }

    void send_rest(std::size_t i) {
        connection& c = conns_[i];
        while (c.sent < c.echo.size()) {
            ssize_t k =
                ::send(c.fd, request_.data() + c.sent, c.echo.size() - c.sent, MSG_NOSIGNAL);
            if (k > 0) {
                c.sent += static_cast<std::size_t>(k);
            } else if (errno == EAGAIN) {
                if (!c.waiting_to_send) watch(EPOLL_CTL_MOD, i, EPOLLIN | EPOLLOUT);
                c.waiting_to_send = true;
                return;
            } else if (errno != EINTR) {
                throw failure(os_error("send"));
            }
        }
        if (c.waiting_to_send) watch(EPOLL_CTL_MOD, i, EPOLLIN);
        c.waiting_to_send = false;
    }

    /// Reads what has come; true once the whole echo is in (and checked).
    bool receive(connection& c) {
        while (c.got < c.echo.size()) {
            ssize_t k = ::recv(c.fd, c.echo.data() + c.got, c.echo.size() - c.got, 0);
            if (k > 0) {
                c.got += static_cast<std::size_t>(k);
            } else if (k == 0) {
                throw failure("the server closed a connection");
            } else if (errno == EAGAIN) {
                return false;
            } else if (errno != EINTR) {
                throw failure(os_error("recv"));
            }
        }
        if (std::memcmp(c.echo.data(), request_.data(), c.echo.size()) != 0)
            throw failure("an echo differs from its request");
        c.in_flight = false;
        return true;
    }

    void run(std::size_t begin, std::size_t end, std::uint64_t requests,
             std::vector<std::uint32_t>* latencies) {
        std::uint64_t to_start = requests;
        std::uint64_t done = 0;
        for (std::size_t i = begin; i < end; ++i) {
            if (!conns_[i].streaming && to_start == 0) continue;
            if (!conns_[i].streaming) --to_start;
            start_request(i);
        }
        std::array<epoll_event, 256> events;
        while (done < requests) {
            int k = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), 10'000);
            if (k == 0) throw failure("no echo for 10 s");
            if (k < 0) {
                if (errno == EINTR) continue;
                throw failure(os_error("epoll_wait"));
            }
            for (int e = 0; e < k; ++e) {
                std::size_t i = events[e].data.u64;
                connection& c = conns_[i];
                if (!c.in_flight) throw failure("the server sent without a request, or closed");
                if ((events[e].events & EPOLLOUT) && c.sent < c.echo.size()) send_rest(i);
                if (!(events[e].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) || !receive(c)) continue;
                if (c.streaming) {
                    start_request(i);
                    continue;
                }
                ++done;
                if (latencies)
                    latencies->push_back(static_cast<std::uint32_t>(
                        std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now() - c.start)
                            .count()));
                if (to_start > 0) {
                    --to_start;
                    start_request(i);
                }
            }
        }
    }

    std::uint16_t port_;
    int epoll_ = -1;
    std::vector<char> request_;  // what every request sends, or its start
    std::vector<connection> conns_;
};

/// The `q` quantile of `values` (reordered), in us.
double quantile_us(std::vector<std::uint32_t>& values, double q) {
    auto at =
        values.begin() + static_cast<std::ptrdiff_t>(q * static_cast<double>(values.size() - 1));
    std::nth_element(values.begin(), at, values.end());
    return *at / 1e3;
}

/// What one echo run measured.
struct echo_result {
    double requests_per_second = 0;
    double p50_us = 0;
    double p99_us = 0;
    double server_cpu_us = 0;  ///< per request
};

echo_result measure_echo(echo_server server, unsigned connections, unsigned streams,
                         std::uint64_t requests) {
    connections = static_cast<unsigned>(
        std::clamp<std::uint64_t>(requests / 20, 1, std::max(connections, 1u)));
    raise_descriptor_limit();
    server_process srv(server);
    pin_to_core(client_core);
    load_generator gen(srv.port());
    gen.connect(connections);
    gen.open_streams(streams);

    std::vector<std::uint32_t> latencies;
    latencies.reserve(requests);
    double cpu_before = srv.cpu_seconds();
    auto start = clock::now();
    gen.run(requests, &latencies);
    double seconds = seconds_since(start);
    double cpu = srv.cpu_seconds() - cpu_before;
    srv.stop();

    expect_count("echoes", latencies.size(), requests);
    return {.requests_per_second = static_cast<double>(requests) / seconds,
            .p50_us = quantile_us(latencies, 0.50),
            .p99_us = quantile_us(latencies, 0.99),
            .server_cpu_us = cpu * 1e6 / static_cast<double>(requests)};
}

}  // namespace

double tcp_echo(echo_server server, unsigned connections, std::uint64_t requests) {
    echo_result r = measure_echo(server, connections, 0, requests);
    report_metric("p50_latency", r.p50_us);
    report_metric("p99_latency", r.p99_us);
    report_metric("server_cpu", r.server_cpu_us);
    return r.requests_per_second;
}

double tcp_echo_beside_streams(echo_server server, unsigned connections, unsigned streams,
                               std::uint64_t requests) {
    echo_result r = measure_echo(server, connections, streams, requests);
    report_metric("requests", r.requests_per_second);
    report_metric("p50_latency", r.p50_us);
    report_metric("server_cpu", r.server_cpu_us);
    return r.p99_us;
}

}  // namespace coronet::bench
