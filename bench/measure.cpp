#include "measure.hpp"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

namespace coronet::bench {

double seconds_since(clock::time_point start) {
    return std::chrono::duration<double>(clock::now() - start).count();
}

memory_status read_memory_status() {
    std::ifstream in("/proc/self/status");
    if (!in) throw failure("cannot read /proc/self/status");
    memory_status m;
    std::string line;
    while (std::getline(in, line)) {
        unsigned long long kib = 0;
        if (std::sscanf(line.c_str(), "VmRSS: %llu kB", &kib) == 1) m.rss_bytes = kib * 1024;
        if (std::sscanf(line.c_str(), "VmHWM: %llu kB", &kib) == 1) m.peak_bytes = kib * 1024;
    }
    if (m.rss_bytes == 0 || m.peak_bytes == 0) throw failure("no VmRSS/VmHWM in /proc/self/status");
    return m;
}

double peak_growth_per_item(const memory_status& before, const memory_status& after,
                            std::uint64_t n) {
    double growth = static_cast<double>(after.peak_bytes) - static_cast<double>(before.rss_bytes);
    return growth / static_cast<double>(n);
}

namespace {
std::vector<std::pair<std::string, double>>& metrics() {
    static std::vector<std::pair<std::string, double>> all;
    return all;
}
}  // namespace

void report_metric(const std::string& metric, double value) {
    metrics().emplace_back(metric, value);
}

const std::vector<std::pair<std::string, double>>& reported_metrics() {
    return metrics();
}

process_output run_process(const std::vector<std::string>& argv, char** envp) {
    std::vector<std::string> args = argv;
    std::vector<char*> arg_ptrs;
    for (std::string& a : args) arg_ptrs.push_back(a.data());
    arg_ptrs.push_back(nullptr);

    int fds[2];
    if (pipe(fds) != 0) throw failure(std::string("pipe: ") + std::strerror(errno));
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    posix_spawn_file_actions_addclose(&actions, fds[1]);
    pid_t pid = 0;
    int rc = posix_spawn(&pid, args[0].c_str(), &actions, nullptr, arg_ptrs.data(), envp);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        throw failure("cannot start " + args[0] + ": " + std::strerror(rc));
    }

    process_output res;
    char buf[256];
    for (ssize_t got; (got = read(fds[0], buf, sizeof buf)) != 0;) {
        if (got < 0) {
            if (errno == EINTR) continue;
            break;
        }
        res.out.append(buf, static_cast<std::size_t>(got));
    }
    close(fds[0]);
    while (waitpid(pid, &res.wait_status, 0) < 0 && errno == EINTR) {
    }
    return res;
}

void expect_count(const char* what, std::uint64_t got, std::uint64_t want) {
    if (got != want)
        throw failure(std::string(what) + ": " + std::to_string(got) + " of " +
                      std::to_string(want));
}

}  // namespace coronet::bench
