# Compiler settings shared by every coronet target.

add_library(coronet_warnings INTERFACE)
target_compile_options(coronet_warnings INTERFACE -Wall -Wextra -Wpedantic)
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    # Asio turns on its C++20 coroutine support for clang only when told to.
    add_compile_definitions(ASIO_HAS_CO_AWAIT ASIO_HAS_STD_COROUTINE)
endif()
add_compile_definitions(ASIO_NO_DEPRECATED)

if(CORONET_SANITIZE)
    string(REPLACE ";" "," _coronet_san "${CORONET_SANITIZE}")
    add_compile_options(-fsanitize=${_coronet_san} -fno-omit-frame-pointer -fno-sanitize-recover=all)
    add_link_options(-fsanitize=${_coronet_san})
endif()
