# Standalone Asio is header-only and ships no CMake package on Debian.
# Defines asio::asio, with the macros that every user of Asio in a coronet
# program must agree on (coronet's public headers include Asio's).
find_path(ASIO_INCLUDE_DIR asio.hpp)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(asio_headers REQUIRED_VARS ASIO_INCLUDE_DIR)
if(asio_headers_FOUND AND NOT TARGET asio::asio)
    add_library(asio::asio INTERFACE IMPORTED)
    # Asio turns on its C++20 coroutine support for clang only when told to.
    set(_asio_definitions ASIO_STANDALONE ASIO_NO_DEPRECATED
        $<$<CXX_COMPILER_ID:Clang>:ASIO_HAS_CO_AWAIT>
        $<$<CXX_COMPILER_ID:Clang>:ASIO_HAS_STD_COROUTINE>)
    set_target_properties(asio::asio PROPERTIES
        INTERFACE_INCLUDE_DIRECTORIES "${ASIO_INCLUDE_DIR}"
        INTERFACE_COMPILE_DEFINITIONS "${_asio_definitions}")
    unset(_asio_definitions)
endif()
