#pragma once

#include <coronet/actors/pid.hpp>

#include <any>
#include <string>

namespace coronet {

/// How a coroutine ended.
enum class exit_reason {
    normal,      ///< it returned; `value` holds a copy of its value if copyable
    exception,   ///< an exception escaped it; `error_type` and `error` describe it
    terminated,  ///< it was terminated
    gone,        ///< it had already ended (or never existed) when the monitor was set
};

/// What a monitor receives in its mailbox when a monitored coroutine ends.
///
///     self.monitor(worker);
///     auto n = co_await self.receive<coronet::exit_notice>();
///     if (n.reason == coronet::exit_reason::exception) log(n.error);
struct exit_notice {
    pid who;
    exit_reason reason = exit_reason::normal;
    std::any value;          ///< the value it returned (normal exit, copyable type)
    std::string error_type;  ///< the exception's type (exception exit)
    std::string error;       ///< the exception's message (exception exit)
};

}  // namespace coronet
