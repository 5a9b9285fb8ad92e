#pragma once

#include <exception>
#include <string>
#include <system_error>
#include <type_traits>

namespace coronet {

/// Error codes of coronet itself, in `coronet::error_category()`.
enum class errc {
    terminated = 1,     ///< the coroutine was terminated
    runtime_stopped,    ///< the runtime stopped before the operation could complete
    not_in_coroutine,   ///< an awaitable was used outside a coroutine run by a runtime
    invalid_shard,      ///< a shard index out of range
    timed_out,          ///< an operation ran past its deadline
    end_of_stream,      ///< the peer closed the stream before all the data arrived
    message_too_large,  ///< a framed message longer than the limit
};

/// The `std::error_category` of `coronet::errc`, named "coronet".
const std::error_category& error_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), error_category()};
}

/// Thrown into a coroutine at its suspension point when it is terminated; it
/// unwinds the coroutine's frames, running their destructors. Catching it is
/// allowed, but every later suspension point throws it again.
class terminated : public std::system_error {
public:
    terminated() : std::system_error(make_error_code(errc::terminated)) {}
};

}  // namespace coronet

template <>
struct std::is_error_code_enum<coronet::errc> : std::true_type {};
