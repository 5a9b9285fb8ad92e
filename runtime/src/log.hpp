#pragma once

#include <spdlog/logger.h>

namespace coronet::detail {

/// The runtime's logger, named "coronet", writing to stderr.
spdlog::logger& log();

/// "type: message" of an exception, for logs.
std::string describe(const std::exception_ptr& e);

/// A readable (demangled) type name.
std::string type_name(const std::type_info& t);

}  // namespace coronet::detail
