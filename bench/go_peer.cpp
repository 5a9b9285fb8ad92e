#include "measure.hpp"
#include "workloads.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

extern char** environ;

// The Go peer: bench/go/pingpong.go, built by CMake when `go` is found, runs
// as a child of the measuring process and prints its own number.
namespace coronet::bench {
namespace {

#ifdef CORONET_BENCH_GO_PINGPONG
constexpr const char* go_pingpong = CORONET_BENCH_GO_PINGPONG;
#else
constexpr const char* go_pingpong = "";
#endif

/// Runs the Go program with `n` and GOMAXPROCS=`procs`; its number.
double run_go(unsigned procs, std::uint64_t n) {
    if (!*go_pingpong || access(go_pingpong, X_OK) != 0)
        throw unavailable("the Go peer was not built (no `go` when configuring)");

    std::vector<std::string> env_strings;
    for (char** e = environ; *e; ++e)
        if (std::strncmp(*e, "GOMAXPROCS=", 11) != 0) env_strings.emplace_back(*e);
    env_strings.push_back("GOMAXPROCS=" + std::to_string(procs));
    std::vector<char*> env;
    for (std::string& s : env_strings) env.push_back(s.data());
    env.push_back(nullptr);

    process_output res = run_process({go_pingpong, std::to_string(n)}, env.data());
    int status = res.wait_status;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw failure(std::string(go_pingpong) + " failed (wait status " + std::to_string(status) +
                      ")");
    char* end = nullptr;
    double v = std::strtod(res.out.c_str(), &end);
    if (end == res.out.c_str() || !std::isfinite(v))
        throw failure(std::string(go_pingpong) + " printed '" + res.out + "'");
    return v;
}

}  // namespace

double go_ping_pong_same(std::uint64_t n) {
    return run_go(1, n);
}

double go_ping_pong_cross(std::uint64_t n) {
    return run_go(2, n);
}

}  // namespace coronet::bench
