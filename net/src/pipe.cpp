#include <coronet/net/detail/readiness.hpp>
#include <coronet/net/pipe.hpp>
#include <coronet/runtime/detail/shard_access.hpp>

#include "descriptor_handle.hpp"
#include "pipe_support.hpp"
#include "read_line.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <system_error>
#include <utility>

namespace coronet::net {

namespace {

using wait = asio::socket_base::wait_type;
using coronet::net::detail::descriptor_handle;
using coronet::net::detail::perform;

[[noreturn]] void throw_errno(int err, const char* what = "") {
    throw std::system_error(err, std::system_category(), what);
}

/// Writing to a pipe with no reader raises SIGPIPE, which would end the
/// process: the shard threads that write to pipes block it, and get EPIPE.
void block_sigpipe() noexcept {
    thread_local bool blocked = false;
    if (blocked) return;
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &s, nullptr);
    blocked = true;
}

/// Takes the SIGPIPE that an EPIPE left pending on this thread.
void discard_sigpipe() noexcept {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGPIPE);
    timespec none{0, 0};
    while (sigtimedwait(&s, nullptr, &none) > 0) {
    }
}

/// An asio descriptor of the calling shard for `fd`, non-blocking; closes
/// `fd` if that fails.
asio::posix::stream_descriptor adopt(int fd) {
    try {
        if (fd < 0) throw_errno(EBADF);
        detail::set_blocking(fd, false);
        return asio::posix::stream_descriptor(coronet::detail::this_io(), fd);
    } catch (...) {
        if (fd >= 0) ::close(fd);
        throw;
    }
}

/// Gives up the descriptor of `d` (blocking again), or -1.
int release_descriptor(std::optional<asio::posix::stream_descriptor>& d) {
    if (!d || !d->is_open()) return -1;
    int fd = d->release();
    detail::set_blocking(fd, true);
    return fd;
}

}  // namespace

namespace detail {

void set_blocking(int fd, bool blocking) {
    int fl = ::fcntl(fd, F_GETFL);
    if (fl < 0) throw_errno(errno, "fcntl");
    int want = blocking ? (fl & ~O_NONBLOCK) : (fl | O_NONBLOCK);
    if (want != fl && ::fcntl(fd, F_SETFL, want) < 0) throw_errno(errno, "fcntl");
}

}  // namespace detail

// ---------------------------------------------------------------- pipe_reader

pipe_reader::pipe_reader(int fd) : descriptor_(adopt(fd)) {}

pipe_reader::pipe_reader(pipe_reader&& o) noexcept
    : descriptor_(std::exchange(o.descriptor_, std::nullopt)),
      spec_(o.spec_),
      ahead_(std::exchange(o.ahead_, {})) {}

pipe_reader& pipe_reader::operator=(pipe_reader&& o) noexcept {
    if (this != &o) {
        descriptor_.reset();  // closes ours
        if (o.descriptor_) descriptor_.emplace(std::move(*o.descriptor_));
        o.descriptor_.reset();
        spec_ = o.spec_;
        ahead_ = std::exchange(o.ahead_, {});
    }
    return *this;
}

pipe_reader::~pipe_reader() {
    close();
}

task<std::size_t> pipe_reader::read_raw(std::span<std::byte> buffer) {
    if (!is_open()) throw_errno(EBADF);
    int fd = descriptor_->native_handle();
    descriptor_handle handle(*descriptor_);
    long n = co_await perform(handle, io_op::pipe_read, spec_, wait::wait_read, [&] {
        return static_cast<long>(::read(fd, buffer.data(), buffer.size()));
    });
    co_return static_cast<std::size_t>(n);
}

task<std::size_t> pipe_reader::read(std::span<std::byte> buffer) {
    if (!ahead_.empty()) co_return ahead_.take(buffer);
    co_return co_await read_raw(buffer);
}

task<std::string> pipe_reader::read_some(std::size_t max) {
    std::string out(max, '\0');
    std::size_t n = co_await read(std::as_writable_bytes(std::span(out)));
    out.resize(n);
    co_return out;
}

task<std::optional<std::string>> pipe_reader::read_line(std::size_t max) {
    return ahead_.read_line(max, [this](std::span<std::byte> into) { return read_raw(into); });
}

task<std::string> pipe_reader::read_all() {
    constexpr std::size_t chunk = 64 * 1024;
    std::string out = ahead_.take_all();
    for (;;) {
        std::size_t held = out.size();
        out.resize(held + chunk);
        std::size_t n = 0;
        try {
            n = co_await read_raw(
                std::span(reinterpret_cast<std::byte*>(out.data()) + held, chunk));
        } catch (...) {
            out.resize(held);  // the next read starts with what was read
            ahead_.hold(std::move(out));
            throw;
        }
        out.resize(held + n);
        if (n == 0) co_return out;
    }
}

void pipe_reader::close() noexcept {
    ahead_.clear();
    std::error_code ignored;
    if (descriptor_ && descriptor_->is_open()) descriptor_->close(ignored);
}

int pipe_reader::release() {
    ahead_.clear();
    return release_descriptor(descriptor_);
}

// ---------------------------------------------------------------- pipe_writer

pipe_writer::pipe_writer(int fd) : descriptor_(adopt(fd)) {}

pipe_writer::pipe_writer(pipe_writer&& o) noexcept
    : descriptor_(std::exchange(o.descriptor_, std::nullopt)), spec_(o.spec_) {}

pipe_writer& pipe_writer::operator=(pipe_writer&& o) noexcept {
    if (this != &o) {
        descriptor_.reset();  // closes ours
        if (o.descriptor_) descriptor_.emplace(std::move(*o.descriptor_));
        o.descriptor_.reset();
        spec_ = o.spec_;
    }
    return *this;
}

pipe_writer::~pipe_writer() {
    close();
}

task<std::size_t> pipe_writer::write(std::span<const std::byte> data) {
    if (!is_open()) throw_errno(EBADF);
    block_sigpipe();
    int fd = descriptor_->native_handle();
    descriptor_handle handle(*descriptor_);
    long n = 0;
    try {
        n = co_await perform(handle, io_op::pipe_write, spec_, wait::wait_write, [&] {
            return static_cast<long>(::write(fd, data.data(), data.size()));
        });
    } catch (const std::system_error& e) {
        if (e.code() != std::error_code(EPIPE, std::system_category())) throw;
        discard_sigpipe();
        throw_errno(EPIPE, "write to a pipe whose reader has closed it");
    }
    co_return static_cast<std::size_t>(n);
}

task<void> pipe_writer::write_all(std::span<const std::byte> data) {
    while (!data.empty()) data = data.subspan(co_await write(data));
}

task<void> pipe_writer::write_all(std::string_view data) {
    co_await write_all(std::as_bytes(std::span(data.data(), data.size())));
}

void pipe_writer::close() noexcept {
    std::error_code ignored;
    if (descriptor_ && descriptor_->is_open()) descriptor_->close(ignored);
}

int pipe_writer::release() {
    return release_descriptor(descriptor_);
}

// ---------------------------------------------------------------- make_pipe

pipe_ends make_pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) throw_errno(errno, "pipe2");
    pipe_ends ends;
    try {
        ends.reader = pipe_reader(fds[0]);
    } catch (...) {
        ::close(fds[1]);
        throw;
    }
    ends.writer = pipe_writer(fds[1]);
    return ends;
}

}  // namespace coronet::net
