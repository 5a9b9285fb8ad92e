#pragma once

namespace coronet::net::detail {

/// Makes `fd` blocking or not (O_NONBLOCK). Errors: `std::system_error`.
void set_blocking(int fd, bool blocking);

}  // namespace coronet::net::detail
