#pragma once

#include <coronet/net/detail/read_ahead.hpp>
#include <coronet/net/file.hpp>
#include <coronet/runtime/io_policy.hpp>
#include <coronet/runtime/task.hpp>

#include <asio/posix/stream_descriptor.hpp>

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace coronet::net {

/// The read end of a pipe (a child's stdout or stderr, or a pipe of
/// `make_pipe`). Every read goes through the shard's I/O dispatcher: the read
/// is tried first while such attempts tend to find data, and the coroutine
/// waits in the event loop only when the pipe is empty.
///
/// Errors: awaited operations throw `std::system_error` with the OS error;
/// ECANCELED when the pipe is closed under a waiting read. Cancellation:
/// terminating the coroutine cancels the wait; a `read_line` or `read_all`
/// cut short keeps what it had read, and the next call returns it.
/// Thread safety: a pipe belongs to the shard that made it; use it from
/// coroutines of that shard, one reader at a time.
///
///     coronet::net::process_options o{.args = {"-1"}};
///     auto p = co_await coronet::net::spawn_process("ls", std::move(o));
///     while (auto line = co_await p.stdout_pipe().read_line())
///         std::cout << *line << '\n';
class pipe_reader {
public:
    pipe_reader() noexcept = default;
    /// Adopts `fd`, the read end of a pipe (or a FIFO, a terminal...), which
    /// the reader then owns and makes non-blocking. From a shard thread.
    explicit pipe_reader(int fd);
    pipe_reader(pipe_reader&&) noexcept;
    pipe_reader& operator=(pipe_reader&&) noexcept;
    ~pipe_reader();

    bool is_open() const noexcept { return descriptor_ && descriptor_->is_open(); }
    int native_handle() noexcept { return is_open() ? descriptor_->native_handle() : -1; }

    /// Reads what is there (up to `buffer.size()` bytes), waiting for at least
    /// one; 0 once every writer has closed its end.
    [[nodiscard]] task<std::size_t> read(std::span<std::byte> buffer);
    /// As read, into a new string of at most `max` bytes; empty at the end.
    [[nodiscard]] task<std::string> read_some(std::size_t max);
    /// Reads the next line, without its '\n'; `std::nullopt` at the end. A
    /// last line without '\n' is returned as it is. A line longer than `max`
    /// throws `errc::message_too_large`.
    [[nodiscard]] task<std::optional<std::string>> read_line(std::size_t max = default_max_line);
    /// Reads until every writer has closed its end.
    [[nodiscard]] task<std::string> read_all();

    /// Closes this end; a read waiting on it ends with ECANCELED.
    void close() noexcept;
    /// Gives up the descriptor, blocking again, to the caller (-1 if closed);
    /// data read ahead by read_line is dropped.
    int release();

private:
    task<std::size_t> read_raw(std::span<std::byte> buffer);

    std::optional<asio::posix::stream_descriptor> descriptor_;
    coronet::detail::speculation spec_;
    detail::read_ahead ahead_;  // read past the line by read_line
};

/// The write end of a pipe (a child's stdin, or a pipe of `make_pipe`).
/// Every write goes through the shard's I/O dispatcher, as pipe_reader's reads.
///
/// Errors: awaited operations throw `std::system_error` with the OS error:
/// EPIPE once no reader is left (the process gets no SIGPIPE for it: writing
/// shard threads block that signal); ECANCELED when the pipe is closed under
/// a waiting write. Cancellation: terminating the coroutine cancels the wait;
/// a `write_all` cut short leaves part of the data written.
/// Thread safety: a pipe belongs to the shard that made it; use it from
/// coroutines of that shard, one writer at a time.
///
///     auto p = co_await coronet::net::spawn_process("sort");
///     co_await p.stdin_pipe().write_all("b\na\n");
///     p.stdin_pipe().close();
class pipe_writer {
public:
    pipe_writer() noexcept = default;
    /// Adopts `fd`, the write end of a pipe (or a FIFO...), which the writer
    /// then owns and makes non-blocking. From a shard thread.
    explicit pipe_writer(int fd);
    pipe_writer(pipe_writer&&) noexcept;
    pipe_writer& operator=(pipe_writer&&) noexcept;
    ~pipe_writer();

    bool is_open() const noexcept { return descriptor_ && descriptor_->is_open(); }
    int native_handle() noexcept { return is_open() ? descriptor_->native_handle() : -1; }

    /// Writes some of `data`, waiting for room if the pipe is full; how much.
    [[nodiscard]] task<std::size_t> write(std::span<const std::byte> data);
    /// Writes all of `data`. `data` must outlive the task.
    [[nodiscard]] task<void> write_all(std::span<const std::byte> data);
    [[nodiscard]] task<void> write_all(std::string_view data);

    /// Closes this end: the reader sees the end once the pipe is drained.
    void close() noexcept;
    /// Gives up the descriptor, blocking again, to the caller (-1 if closed).
    int release();

private:
    std::optional<asio::posix::stream_descriptor> descriptor_;
    coronet::detail::speculation spec_;
};

/// Both ends of a new pipe.
struct pipe_ends {
    pipe_reader reader;
    pipe_writer writer;
};

/// Makes a pipe whose two ends belong to the calling shard (close-on-exec).
/// Synchronous: making a pipe does not block.
///
/// Errors: `std::system_error` (EMFILE...). From a coroutine of a runtime.
///
///     auto [reader, writer] = coronet::net::make_pipe();
///     co_await writer.write_all("hello\n");
///     auto line = co_await reader.read_line();  // "hello"
pipe_ends make_pipe();

}  // namespace coronet::net
