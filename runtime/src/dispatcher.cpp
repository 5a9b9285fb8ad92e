#include <coronet/runtime/dispatcher.hpp>

#include "core.hpp"
#include "log.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>

namespace coronet {

const char* to_string(io_op op) noexcept {
    switch (op) {
        case io_op::socket_recv:
            return "socket_recv";
        case io_op::socket_send:
            return "socket_send";
        case io_op::socket_accept:
            return "socket_accept";
        case io_op::socket_connect:
            return "socket_connect";
        case io_op::datagram_recv:
            return "datagram_recv";
        case io_op::datagram_send:
            return "datagram_send";
        case io_op::pipe_read:
            return "pipe_read";
        case io_op::pipe_write:
            return "pipe_write";
        case io_op::file_read:
            return "file_read";
        case io_op::file_write:
            return "file_write";
        case io_op::file_open:
            return "file_open";
        case io_op::file_sync:
            return "file_sync";
        case io_op::resolve:
            return "resolve";
        case io_op::odbc:
            return "odbc";
        case io_op::other:
            return "other";
        case io_op::count_:
            break;
    }
    return "unknown";
}

io_counters& io_counters::operator+=(const io_counters& o) noexcept {
    inline_completions += o.inline_completions;
    speculative_misses += o.speculative_misses;
    skipped_attempts += o.skipped_attempts;
    epoll_waits += o.epoll_waits;
    offloads += o.offloads;
    stalls += o.stalls;
    mode_switches += o.mode_switches;
    budget_yields += o.budget_yields;
    return *this;
}

namespace detail {

io_counters io_counter_block::snapshot() const noexcept {
    io_counters c;
    c.inline_completions = inline_completions.get();
    c.speculative_misses = speculative_misses.get();
    c.skipped_attempts = skipped_attempts.get();
    c.epoll_waits = epoll_waits.get();
    c.offloads = offloads.get();
    c.stalls = stalls.get();
    c.mode_switches = mode_switches.get();
    c.budget_yields = budget_yields.get();
    return c;
}

dispatcher::dispatcher(io_mode mode, const io_policy_options& options) noexcept
    : mode_(mode), options_(options) {
    static std::atomic<std::uint64_t> made{0};
    id_ = made.fetch_add(1, std::memory_order_relaxed) + 1;
}

blocking_key_state& dispatcher::key(io_op op, std::string_view target) {
    auto& keys = keys_[static_cast<std::size_t>(op)];
    auto it = keys.find(target);
    if (it == keys.end()) {
        it = keys.emplace(std::string(target), std::make_unique<blocking_key>()).first;
        it->second->op = op;
        it->second->target = &it->first;
    }
    return *it->second;
}

void dispatcher::begin_inline(blocking_key_state& key,
                              std::chrono::steady_clock::time_point start) noexcept {
    if (!watchdog_started_) {
        watchdog_started_ = true;
        current_shard->core().start_watchdog();
    }
    watch_.begin(static_cast<blocking_key&>(key), start);
}

void dispatcher::record(io_op op, blocking_key_state& key, std::chrono::nanoseconds took,
                        bool was_inline) noexcept {
    io_counter_block& c = counters(op);
    bool switched;
    bool reported = was_inline && watch_.end();
    if (was_inline && (reported || took > options_.inline_stall)) {
        // An inline call held the shard: offload this key from now on.
        c.stalls.add();
        switched = key.force_offload(took);
        if (!reported)
            log().warn("{} call held its shard for {} us; later calls of it are offloaded",
                       to_string(op),
                       std::chrono::duration_cast<std::chrono::microseconds>(took).count());
    } else {
        switched = key.record(took, options_);
    }
    if (switched) c.mode_switches.add();
}

void dispatcher::force_offload(io_op op, std::string_view target) {
    auto& k = key(op, target);
    if (k.force_offload(options_.inline_stall)) counters(op).mode_switches.add();
}

dispatcher& this_dispatcher() {
    if (!current_shard) throw std::system_error(make_error_code(errc::not_in_coroutine));
    return current_shard->dispatch();
}

std::uint32_t ready_count() noexcept {
    return current_shard ? static_cast<std::uint32_t>(current_shard->ready_size()) : 0;
}

namespace {

/// The time the calling thread has spent ready to run but waiting for a core,
/// from the kernel's scheduler statistics (`/proc/thread-self/schedstat`:
/// time on a core, time waiting for one, time slices); 0 where the kernel
/// does not keep them. Opened for each reading (three system calls), so that
/// no descriptor stays open: only sampled calls read it.
std::chrono::nanoseconds time_queued() noexcept {
    int fd = ::open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return {};
    char text[96];
    ssize_t n = ::read(fd, text, sizeof text - 1);
    ::close(fd);
    if (n <= 0) return {};
    text[n] = '\0';
    char* end = nullptr;
    std::strtoull(text, &end, 10);  // time on a core: getrusage gives it too
    return std::chrono::nanoseconds(static_cast<std::int64_t>(std::strtoull(end, nullptr, 10)));
}

}  // namespace

thread_usage thread_usage_now() noexcept {
    rusage u{};
    getrusage(RUSAGE_THREAD, &u);
    auto us = [](const timeval& t) {
        return std::chrono::seconds(t.tv_sec) + std::chrono::microseconds(t.tv_usec);
    };
    return {us(u.ru_utime) + us(u.ru_stime), u.ru_nvcsw, time_queued()};
}

}  // namespace detail
}  // namespace coronet
