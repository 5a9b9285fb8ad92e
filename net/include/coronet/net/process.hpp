#pragma once

#include <coronet/net/pipe.hpp>
#include <coronet/runtime/task.hpp>

#include <asio/posix/stream_descriptor.hpp>

#include <sys/types.h>

#include <csignal>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace coronet::net {

/// Where one standard stream of a child process goes (`process_options::in`,
/// `out`, `err`). Copies share what they hold.
class stdio {
public:
    /// A new pipe to this process: `process::stdin_pipe()` and the like.
    static stdio pipe() noexcept { return stdio(kind::pipe, -1); }
    /// The same stream as this process's own.
    static stdio inherit() noexcept { return stdio(kind::inherit, -1); }
    /// /dev/null.
    static stdio null() noexcept { return stdio(kind::null, -1); }
    /// For stdin: the read end of a pipe, such as another child's stdout
    /// (`a | b`). It is taken over, and closed here once a child has it.
    static stdio from(pipe_reader reader);
    /// For stdout or stderr: the write end of a pipe, taken over likewise.
    static stdio to(pipe_writer writer);
    /// A copy of `fd` (a file, a socket); the caller keeps `fd` and should
    /// leave it blocking, as children expect their standard streams to be.
    static stdio descriptor(int fd) noexcept { return stdio(kind::borrowed, fd); }

private:
    enum class kind { pipe, inherit, null, owned, borrowed };
    stdio(kind k, int fd) noexcept : kind_(k), fd_(fd) {}

    kind kind_;
    int fd_;                      // borrowed
    std::shared_ptr<int> owned_;  // owned: closed by the last copy, or once spawned

    friend struct process_launch;
};

/// How `spawn_process` starts a program.
struct process_options {
    /// The arguments after the program's name (argv[1]...).
    std::vector<std::string> args{};
    /// Variables to set in the child, over those it inherits.
    std::map<std::string, std::string> env{};
    /// Start the child from an empty environment (plus `env`) instead of this
    /// process's.
    bool clear_env = false;
    /// The child's working directory; empty: this process's.
    std::string cwd{};
    /// The child's stdin, stdout and stderr: pipes to this process by default.
    stdio in = stdio::pipe();
    stdio out = stdio::pipe();
    stdio err = stdio::pipe();
};

/// How a process ended.
struct exit_status {
    int code = 0;    ///< its exit code, when it exited (signal == 0)
    int signal = 0;  ///< the signal that killed it, or 0

    bool exited() const noexcept { return signal == 0; }
    bool success() const noexcept { return signal == 0 && code == 0; }
    /// "exit code 3", "killed by signal 9 (Killed)".
    std::string to_string() const;
    friend bool operator==(const exit_status&, const exit_status&) = default;
};

/// What `communicate` collected.
struct process_output {
    std::string out{};  ///< all of stdout (if it was a pipe)
    std::string err{};  ///< all of stderr (if it was a pipe)
    exit_status status{};
};

/// A child process and the pipes to its standard streams.
///
/// The child is waited for through the shard's event loop: a pidfd that
/// becomes readable when it exits (Linux 5.3 and later), else SIGCHLD. A
/// process that is destroyed before it was waited for is killed (SIGKILL) and
/// reaped in the background: no child outlives its `process`, and none is
/// left a zombie.
///
/// Errors: awaited operations throw `std::system_error` with the OS error.
/// Cancellation: terminating the coroutine cancels what it waits on (the exit,
/// a read or write of a pipe); the child runs on until its `process` goes.
/// Thread safety: a process belongs to the shard that spawned it; use it from
/// coroutines of that shard.
///
///     coronet::net::process_options o{.args = {"-c", "echo hi; exit 3"}};
///     auto p = co_await coronet::net::spawn_process("sh", std::move(o));
///     std::string out = co_await p.stdout_pipe().read_all();   // "hi\n"
///     coronet::net::exit_status st = co_await p.wait();        // st.code == 3
class process {
public:
    process() noexcept = default;
    process(process&& o) noexcept;
    process& operator=(process&& o) noexcept;
    ~process();

    bool valid() const noexcept { return pid_ > 0; }
    /// The child's process id (still its own until it is waited for).
    pid_t pid() const noexcept { return pid_; }

    /// The pipes to the child's standard streams (closed ones unless the
    /// options asked for `stdio::pipe()`).
    pipe_writer& stdin_pipe() noexcept { return stdin_; }
    pipe_reader& stdout_pipe() noexcept { return stdout_; }
    pipe_reader& stderr_pipe() noexcept { return stderr_; }
    /// Closes the child's stdin: it reads the end of its input.
    void close_stdin() noexcept { stdin_.close(); }

    /// Waits for the child to exit and reaps it; later calls return the same.
    ///
    /// Errors: `std::system_error` (ECHILD if something else reaped it).
    /// Cancellation: terminating the coroutine stops the wait; the child runs
    /// on. Close stdin first if the child reads it to the end, and read its
    /// piped outputs (or use communicate), or it may wait for you forever.
    [[nodiscard]] task<exit_status> wait();
    /// The exit status if the child has exited (and reaps it); never waits.
    std::optional<exit_status> try_wait();

    /// Writes `input` to the child's stdin and closes it, while reading its
    /// stdout and stderr to their ends, then waits for it to exit. The three
    /// go on at once, so a child with large outputs does not deadlock. A child
    /// that exits without reading all its input is not an error (its status
    /// tells). The pipes are used up: they are closed afterwards.
    ///
    /// Errors: `std::system_error`; `std::invalid_argument` for input to a
    /// child whose stdin is not a pipe. Cancellation: terminating the
    /// coroutine stops all three and closes the pipes; the child runs on until
    /// its `process` goes.
    ///
    ///     auto p = co_await coronet::net::spawn_process("sha1sum");
    ///     auto [out, err, status] = co_await p.communicate(data);
    [[nodiscard]] task<process_output> communicate(std::string input = {});

    /// Sends `signal` to the child; nothing once it has been waited for.
    /// Errors: `std::system_error` (EINVAL for a bad signal number).
    void send_signal(int signal);
    /// Asks the child to end (SIGTERM).
    void terminate() { send_signal(SIGTERM); }
    /// Kills the child (SIGKILL).
    void kill() { send_signal(SIGKILL); }

private:
    friend struct process_launch;
    void reset() noexcept;

    pid_t pid_ = -1;
    std::optional<exit_status> status_;
    std::optional<asio::posix::stream_descriptor> pidfd_;  // none: wait through SIGCHLD
    pipe_writer stdin_;
    pipe_reader stdout_;
    pipe_reader stderr_;
};

/// Starts `program` (looked up in this process's PATH when it has no '/')
/// with `options`. Starting a process is a blocking call through the
/// dispatcher (it may run on the blocking pool). The child starts with the
/// default signal mask and SIGPIPE at its default action, and with no
/// descriptor of this process but its three standard streams.
///
/// Errors: `std::system_error` with the OS error, its message naming the
/// program ("cannot start 'nosuch': No such file or directory"), also for a
/// working directory that does not exist. Cancellation: as call_blocking; a
/// child started for a coroutine that was terminated meanwhile is killed.
/// Call it from a coroutine of a runtime; the process belongs to its shard.
/// (GCC 12 mishandles a braced list or an aggregate made inside a `co_await`
/// expression: build the options in a variable first, as below.)
///
///     coronet::net::process_options o{.env = {{"GREETING", "hello"}}, .cwd = "/tmp"};
///     auto p = co_await coronet::net::spawn_process("env", std::move(o));
///     auto [out, err, status] = co_await p.communicate();
[[nodiscard]] task<process> spawn_process(std::string program,
                                          process_options options = process_options());

/// One program of a pipeline.
struct command {
    std::string program{};
    process_options options{};
};

/// Starts `commands` as the shell's `a | b | c`: each one's stdout is the next
/// one's stdin, through a pipe between the two children (this process does
/// not copy the data). Those options are replaced; the first's stdin, the
/// last's stdout and every stderr follow their options.
///
/// Errors: as spawn_process; the children started before one that fails are
/// killed. Cancellation: as spawn_process.
///
///     std::vector<coronet::net::command> commands{{"grep", {.args = {"error"}}},
///                                                 {"wc", {.args = {"-l"}}}};
///     auto chain = co_await coronet::net::spawn_pipeline(std::move(commands));
///     co_await chain.front().stdin_pipe().write_all(log_text);
///     chain.front().close_stdin();
///     auto count = co_await chain.back().stdout_pipe().read_line();
[[nodiscard]] task<std::vector<process>> spawn_pipeline(std::vector<command> commands);

namespace detail {
/// Whether new processes are waited for through a pidfd where the kernel has
/// them (the default), or through SIGCHLD; for tests of the latter.
void use_pidfd(bool on) noexcept;
}  // namespace detail

}  // namespace coronet::net
