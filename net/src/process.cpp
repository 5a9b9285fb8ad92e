#include <coronet/net/detail/readiness.hpp>
#include <coronet/net/process.hpp>
#include <coronet/runtime/call_blocking.hpp>
#include <coronet/runtime/detail/shard_access.hpp>
#include <coronet/runtime/join_handle.hpp>
#include <coronet/runtime/runtime.hpp>
#include <coronet/runtime/spawn_blocking.hpp>

#include "descriptor_handle.hpp"
#include "pipe_support.hpp"

#include <asio/signal_set.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace coronet::net {

namespace detail {

namespace {
std::atomic<bool> pidfd_allowed{true};
}  // namespace

void use_pidfd(bool on) noexcept {
    pidfd_allowed.store(on, std::memory_order_relaxed);
}

}  // namespace detail

namespace {

using coronet::detail::control;

[[noreturn]] void throw_errno(int err, const std::string& what = "") {
    throw std::system_error(err, std::system_category(), what);
}

/// A descriptor this code owns.
class unique_fd {
public:
    unique_fd() noexcept = default;
    explicit unique_fd(int fd) noexcept : fd_(fd) {}
    unique_fd(unique_fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    unique_fd& operator=(unique_fd&& o) noexcept {
        if (this != &o) {
            reset();
            fd_ = std::exchange(o.fd_, -1);
        }
        return *this;
    }
    ~unique_fd() { reset(); }

    int get() const noexcept { return fd_; }
    int release() noexcept { return std::exchange(fd_, -1); }
    void reset() noexcept {
        if (fd_ >= 0) ::close(std::exchange(fd_, -1));
    }

private:
    int fd_ = -1;
};

exit_status decode(int status) {
    if (WIFSIGNALED(status)) return {128 + WTERMSIG(status), WTERMSIG(status)};
    return {WEXITSTATUS(status), 0};
}

/// waitpid without waiting: the status, or nothing while `pid` runs.
std::optional<int> poll_child(pid_t pid) {
    int status = 0;
    pid_t r;
    do r = ::waitpid(pid, &status, WNOHANG);
    while (r < 0 && errno == EINTR);
    if (r < 0) throw_errno(errno, "waitpid");
    if (r == 0) return std::nullopt;
    return status;
}

void reap_blocking(pid_t pid) noexcept {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
}

/// Waits for a killed child on the blocking pool, so that the shard goes on.
class background_reap final : public coronet::detail::blocking_call {
public:
    explicit background_reap(pid_t pid) noexcept : pid_(pid) {}
    void run() noexcept override {
        reap_blocking(pid_);
        delete this;
    }

private:
    pid_t pid_;
};

/// Kills `pid`, a child not yet waited for, and reaps it: at once if it is
/// already gone, else on the blocking pool (or here, off the shards).
void kill_and_reap(pid_t pid) noexcept {
    ::kill(pid, SIGKILL);
    int status = 0;
    pid_t r;
    do r = ::waitpid(pid, &status, WNOHANG);
    while (r < 0 && errno == EINTR);
    if (r != 0) return;  // reaped, or not a child of ours any more
    if (coronet::detail::this_runtime()) {
        auto* job = new (std::nothrow) background_reap(pid);
        if (job) {
            try {
                coronet::detail::submit_blocking(job);
                return;
            } catch (...) {
                delete job;  // the runtime is stopping: wait here
            }
        }
    }
    reap_blocking(pid);
}

/// Suspends until `signals` reports a signal; terminating the coroutine
/// cancels the wait.
class signal_awaiter final : public coronet::detail::wait_node {
public:
    explicit signal_awaiter(asio::signal_set& signals) noexcept : signals_(signals) {}

    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> h) {
        me_ = &coronet::detail::require_current();
        if (me_->has_interrupt()) return false;
        signals_.async_wait(
            [this, h](const std::error_code&, int) { coronet::detail::resume_now(me_, h); });
        me_->set_wait(this);
        return true;
    }
    void await_resume() {
        me_->clear_wait();
        if (me_->has_interrupt()) me_->raise_interrupt();
    }
    void cancel() noexcept override {
        std::error_code ignored;
        signals_.cancel(ignored);
    }

private:
    asio::signal_set& signals_;
    control* me_ = nullptr;
};

int open_pidfd(pid_t pid) {
#ifdef SYS_pidfd_open
    if (!detail::pidfd_allowed.load(std::memory_order_relaxed)) return -1;
    int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (fd >= 0) {
        ::fcntl(fd, F_SETFD, FD_CLOEXEC);
        return fd;
    }
    if (errno == ENOSYS || errno == EPERM) return -1;  // an old kernel, or a sandbox
    throw_errno(errno, "pidfd_open");
#else
    (void)pid;
    return -1;
#endif
}

/// A helper of communicate: writes `input` to the child, then closes its stdin.
task<void> feed(pipe_writer in, std::string input) {
    try {
        co_await in.write_all(input);
    } catch (const std::system_error& e) {
        // The child closed its stdin early: its exit status tells the rest.
        if (e.code() != std::error_code(EPIPE, std::system_category())) throw;
    }
}

/// A helper of communicate: reads one output of the child to its end.
task<std::string> drain(pipe_reader out) {
    co_return co_await out.read_all();
}

/// Terminates the helpers of a communicate that ends early.
struct helpers_guard {
    join_handle<void>& feeding;
    join_handle<std::string>& reading_out;
    join_handle<std::string>& reading_err;

    ~helpers_guard() {
        if (feeding.valid() && !feeding.done()) feeding.terminate();
        if (reading_out.valid() && !reading_out.done()) reading_out.terminate();
        if (reading_err.valid() && !reading_err.done()) reading_err.terminate();
    }
};

}  // namespace

/// Starts children: the part that may block (pipes, posix_spawn, pidfd) runs
/// through call_blocking; the asio parts are made on the shard.
struct process_launch {
    /// A started child and this process's ends of its pipes; kills the child
    /// if it is dropped (its caller was terminated) before becoming a process.
    struct started {
        pid_t pid = -1;
        unique_fd pidfd, in, out, err;

        started() = default;
        started(started&& o) noexcept
            : pid(std::exchange(o.pid, -1)),
              pidfd(std::move(o.pidfd)),
              in(std::move(o.in)),
              out(std::move(o.out)),
              err(std::move(o.err)) {}
        started& operator=(started&&) = delete;
        ~started() {
            in.reset();
            out.reset();
            err.reset();
            if (pid > 0) kill_and_reap(pid);
        }
    };

    static stdio owned(int fd) {
        stdio s(stdio::kind::owned, -1);
        s.owned_ = std::shared_ptr<int>(new int(fd), [](int* p) {
            if (*p >= 0) ::close(*p);
            delete p;
        });
        return s;
    }

    /// Prepares standard stream `target` (0, 1 or 2) of the child from `s`;
    /// the end this process keeps goes to `parent_end`, the descriptor the
    /// child gets to `child_end` (closed here after the spawn).
    static void prepare(const stdio& s, int target, posix_spawn_file_actions_t& actions,
                        unique_fd& parent_end, unique_fd& child_end) {
        int child = -1;
        switch (s.kind_) {
            case stdio::kind::inherit:
                return;
            case stdio::kind::null: {
                int r = posix_spawn_file_actions_addopen(&actions, target, "/dev/null",
                                                         target == 0 ? O_RDONLY : O_WRONLY, 0);
                if (r != 0) throw_errno(r, "posix_spawn_file_actions_addopen");
                return;
            }
            case stdio::kind::pipe: {
                int fds[2];
                if (::pipe2(fds, O_CLOEXEC) != 0) throw_errno(errno, "pipe2");
                bool child_reads = target == 0;
                parent_end = unique_fd(fds[child_reads ? 1 : 0]);
                child_end = unique_fd(fds[child_reads ? 0 : 1]);
                child = child_end.get();
                break;
            }
            case stdio::kind::owned:
                child = s.owned_ ? *s.owned_ : -1;
                if (child < 0) throw_errno(EBADF, "a stdio::from/to pipe end already given away");
                break;
            case stdio::kind::borrowed:
                child = s.fd_;
                break;
        }
        if (child < 3) {
            // Out of the way of the three the child gets, which dup2 overwrites in turn.
            int moved = ::fcntl(child, F_DUPFD_CLOEXEC, 3);
            if (moved < 0) throw_errno(errno, "fcntl");
            child_end = unique_fd(moved);
            child = moved;
        }
        int r = posix_spawn_file_actions_adddup2(&actions, child, target);
        if (r != 0) throw_errno(r, "posix_spawn_file_actions_adddup2");
    }

    /// The blocking part of spawn_process; on any thread.
    static started start(const std::string& program, const process_options& options) {
        struct actions_holder {
            posix_spawn_file_actions_t a;
            actions_holder() {
                int r = posix_spawn_file_actions_init(&a);
                if (r != 0) throw_errno(r, "posix_spawn_file_actions_init");
            }
            ~actions_holder() { posix_spawn_file_actions_destroy(&a); }
        } actions;
        struct attr_holder {
            posix_spawnattr_t a;
            attr_holder() {
                int r = posix_spawnattr_init(&a);
                if (r != 0) throw_errno(r, "posix_spawnattr_init");
            }
            ~attr_holder() { posix_spawnattr_destroy(&a); }
        } attr;

        started s;
        unique_fd child_in, child_out, child_err;
        prepare(options.in, 0, actions.a, s.in, child_in);
        prepare(options.out, 1, actions.a, s.out, child_out);
        prepare(options.err, 2, actions.a, s.err, child_err);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
        // Descriptors opened without close-on-exec elsewhere stay here too.
        posix_spawn_file_actions_addclosefrom_np(&actions.a, 3);
#endif
        if (!options.cwd.empty()) {
            int r = posix_spawn_file_actions_addchdir_np(&actions.a, options.cwd.c_str());
            if (r != 0) throw_errno(r, "posix_spawn_file_actions_addchdir_np");
        }

        // The child starts with no signal blocked (shard threads block SIGPIPE)
        // and SIGPIPE at its default action.
        sigset_t none, pipe_signal;
        sigemptyset(&none);
        sigemptyset(&pipe_signal);
        sigaddset(&pipe_signal, SIGPIPE);
        posix_spawnattr_setsigmask(&attr.a, &none);
        posix_spawnattr_setsigdefault(&attr.a, &pipe_signal);
        posix_spawnattr_setflags(&attr.a, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

        std::vector<char*> argv;
        argv.push_back(const_cast<char*>(program.c_str()));
        for (const std::string& a : options.args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);

        std::vector<std::string> env;
        if (!options.clear_env) {
            for (char** e = environ; *e; ++e) {
                std::string_view entry(*e);
                std::string name(entry.substr(0, entry.find('=')));
                if (!options.env.contains(name)) env.emplace_back(entry);
            }
        }
        for (const auto& [name, value] : options.env) env.push_back(name + "=" + value);
        std::vector<char*> envp;
        for (std::string& e : env) envp.push_back(e.data());
        envp.push_back(nullptr);

        pid_t pid = -1;
        int r =
            ::posix_spawnp(&pid, program.c_str(), &actions.a, &attr.a, argv.data(), envp.data());
        if (r != 0) {
            std::string what = "cannot start '" + program + "'";
            if (!options.cwd.empty()) what += " in '" + options.cwd + "'";
            throw_errno(r, what);
        }
        s.pid = pid;
        s.pidfd = unique_fd(open_pidfd(pid));
        // The child has its copies: the ends given to it are closed here.
        for (const stdio* o : {&options.in, &options.out, &options.err}) {
            if (o->kind_ == stdio::kind::owned && o->owned_ && *o->owned_ >= 0)
                ::close(std::exchange(*o->owned_, -1));
        }
        return s;
    }

    /// The shard part: the process and its pipes, of the calling shard.
    static process adopt(started&& s) {
        process p;
        p.pid_ = std::exchange(s.pid, -1);
        if (s.pidfd.get() >= 0) {
            int fd = s.pidfd.release();
            try {
                p.pidfd_.emplace(coronet::detail::this_io(), fd);
            } catch (...) {
                ::close(fd);
                throw;
            }
        }
        if (s.in.get() >= 0) p.stdin_ = pipe_writer(s.in.release());
        if (s.out.get() >= 0) p.stdout_ = pipe_reader(s.out.release());
        if (s.err.get() >= 0) p.stderr_ = pipe_reader(s.err.release());
        return p;
    }
};

// ---------------------------------------------------------------- stdio

stdio stdio::from(pipe_reader reader) {
    int fd = reader.release();
    if (fd < 0) throw_errno(EBADF, "stdio::from a closed pipe");
    return process_launch::owned(fd);
}

stdio stdio::to(pipe_writer writer) {
    int fd = writer.release();
    if (fd < 0) throw_errno(EBADF, "stdio::to a closed pipe");
    return process_launch::owned(fd);
}

// ---------------------------------------------------------------- exit_status

std::string exit_status::to_string() const {
    if (signal == 0) return "exit code " + std::to_string(code);
    const char* name = ::strsignal(signal);
    return "killed by signal " + std::to_string(signal) + " (" + (name ? name : "?") + ")";
}

// ---------------------------------------------------------------- process

process::process(process&& o) noexcept
    : pid_(std::exchange(o.pid_, -1)),
      status_(std::exchange(o.status_, std::nullopt)),
      pidfd_(std::exchange(o.pidfd_, std::nullopt)),
      stdin_(std::move(o.stdin_)),
      stdout_(std::move(o.stdout_)),
      stderr_(std::move(o.stderr_)) {}

process& process::operator=(process&& o) noexcept {
    if (this != &o) {
        reset();
        pid_ = std::exchange(o.pid_, -1);
        status_ = std::exchange(o.status_, std::nullopt);
        if (o.pidfd_) pidfd_.emplace(std::move(*o.pidfd_));
        o.pidfd_.reset();
        stdin_ = std::move(o.stdin_);
        stdout_ = std::move(o.stdout_);
        stderr_ = std::move(o.stderr_);
    }
    return *this;
}

process::~process() {
    reset();
}

void process::reset() noexcept {
    stdin_.close();
    stdout_.close();
    stderr_.close();
    if (pid_ > 0 && !status_) kill_and_reap(pid_);
    pid_ = -1;
    status_.reset();
    pidfd_.reset();
}

std::optional<exit_status> process::try_wait() {
    if (status_) return status_;
    if (pid_ <= 0) throw_errno(ECHILD, "no process");
    std::optional<int> raw = poll_child(pid_);
    if (!raw) return std::nullopt;
    status_ = decode(*raw);
    std::error_code ignored;
    if (pidfd_) pidfd_->close(ignored);  // a wait on it ends and finds the status
    return status_;
}

task<exit_status> process::wait() {
    coronet::detail::dispatcher& d = coronet::detail::this_dispatcher();
    if (auto st = try_wait()) {
        d.completed_inline(io_op::other);
        co_return *st;
    }
    if (pidfd_) {
        // The pidfd becomes readable when the child exits.
        detail::descriptor_handle handle(*pidfd_);
        for (;;) {
            d.parked(io_op::other);
            co_await detail::readiness_awaiter<detail::descriptor_handle>(
                handle, asio::socket_base::wait_read);
            if (auto st = try_wait()) co_return *st;
        }
    }
    // No pidfd: every SIGCHLD, ours or not, is a reason to look again. The set
    // is made before the look, so that a signal in between is kept for it.
    asio::signal_set children(coronet::detail::this_io(), SIGCHLD);
    for (;;) {
        if (auto st = try_wait()) co_return *st;
        d.parked(io_op::other);
        co_await signal_awaiter(children);
    }
}

task<process_output> process::communicate(std::string input) {
    if (!input.empty() && !stdin_.is_open())
        throw std::invalid_argument("communicate: input for a child whose stdin is not a pipe");
    join_handle<void> feeding;
    join_handle<std::string> reading_out, reading_err;
    helpers_guard guard{feeding, reading_out, reading_err};
    if (stdin_.is_open()) feeding = coronet::spawn(feed, std::move(stdin_), std::move(input));
    if (stdout_.is_open()) reading_out = coronet::spawn(drain, std::move(stdout_));
    if (stderr_.is_open()) reading_err = coronet::spawn(drain, std::move(stderr_));

    process_output result;
    if (reading_out.valid()) result.out = co_await reading_out.join();
    if (reading_err.valid()) result.err = co_await reading_err.join();
    if (feeding.valid()) co_await feeding.join();
    result.status = co_await wait();
    co_return result;
}

void process::send_signal(int signal) {
    if (pid_ <= 0 || status_) return;
    if (::kill(pid_, signal) != 0 && errno != ESRCH) throw_errno(errno, "kill");
}

// ---------------------------------------------------------------- spawning

task<process> spawn_process(std::string program, process_options options) {
    auto started = co_await call_blocking(io_op::other, "spawn",
                                          [&] { return process_launch::start(program, options); });
    co_return process_launch::adopt(std::move(started));
}

task<std::vector<process>> spawn_pipeline(std::vector<command> commands) {
    for (std::size_t i = 0; i + 1 < commands.size(); ++i) {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) throw_errno(errno, "pipe2");
        commands[i].options.out = process_launch::owned(fds[1]);
        commands[i + 1].options.in = process_launch::owned(fds[0]);
    }
    std::vector<process> chain;
    chain.reserve(commands.size());
    for (command& c : commands)
        chain.push_back(co_await spawn_process(std::move(c.program), std::move(c.options)));
    co_return chain;
}

}  // namespace coronet::net
