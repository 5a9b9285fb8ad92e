#include "measure.hpp"

#include <cstdio>
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

void expect_count(const char* what, std::uint64_t got, std::uint64_t want) {
    if (got != want)
        throw failure(std::string(what) + ": " + std::to_string(got) + " of " +
                      std::to_string(want));
}

}  // namespace coronet::bench
