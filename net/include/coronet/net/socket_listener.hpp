#pragma once

#include <coronet/net/socket_stream.hpp>
#include <coronet/runtime/io_policy.hpp>
#include <coronet/runtime/task.hpp>

namespace coronet::net {

/// A listening stream socket of an Asio protocol, accepting `Stream`s: the
/// common part of `tcp::listener` and `local::listener`.
///
/// Thread safety: it belongs to the shard that made it.
///
///     auto l = coronet::tcp::listen("127.0.0.1", 0);
///     for (;;) coronet::spawn(serve, co_await l.accept());
template <class Stream>
class socket_listener {
public:
    using protocol_type = typename Stream::protocol_type;
    using acceptor_type = typename protocol_type::acceptor;
    using endpoint = typename protocol_type::endpoint;

    socket_listener() = default;
    /// Adopts a listening acceptor of the calling shard's I/O context.
    explicit socket_listener(acceptor_type acceptor);
    socket_listener(socket_listener&&) noexcept = default;
    socket_listener& operator=(socket_listener&&) noexcept = default;

    /// Waits for the next connection, through the dispatcher (io_op::socket_accept).
    ///
    /// Errors: `std::system_error` (EMFILE when out of descriptors, ECANCELED
    /// when the listener is closed meanwhile). Cancellation: terminating the
    /// coroutine ends the wait; no connection is lost (it stays queued).
    [[nodiscard]] task<Stream> accept();

    /// The address it listens on.
    const endpoint& local_endpoint() const noexcept { return local_; }
    /// Stops listening; a waiting accept ends with ECANCELED. Idempotent.
    void close() noexcept;
    bool is_open() const noexcept { return acceptor_.is_open(); }
    /// The Asio acceptor, for what this class does not wrap.
    acceptor_type& asio_acceptor() noexcept { return acceptor_; }

private:
    acceptor_type acceptor_{detail::unbound_context()};
    endpoint local_;
    coronet::detail::speculation spec_;
};

}  // namespace coronet::net
