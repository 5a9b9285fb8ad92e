#pragma once

#include <coronet/actors/pid.hpp>
#include <coronet/runtime/task.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace coronet {

/// The coroutine registered as `name` (see self::register_name) in the
/// calling coroutine's runtime, waiting up to `timeout` for the name to
/// appear; `std::nullopt` on timeout.
///
/// Cancellation: terminating the caller ends the wait. From a coroutine.
///
///     if (auto server = co_await coronet::locate("server", 5s))
///         server->send(request{...});
[[nodiscard]] task<std::optional<pid>> locate(std::string name,
                                              std::chrono::steady_clock::duration timeout);

}  // namespace coronet
