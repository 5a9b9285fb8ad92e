# Compiler settings shared by every coronet target.

option(CORONET_WERROR "Treat compiler warnings as errors" OFF)

# Linked (at build time only) by every target of the project.
add_library(coronet_warnings INTERFACE)
target_compile_options(coronet_warnings INTERFACE -Wall -Wextra -Wpedantic)
if(CORONET_WERROR)
    target_compile_options(coronet_warnings INTERFACE -Werror)
endif()

if(CORONET_SANITIZE)
    string(REPLACE ";" "," _coronet_san "${CORONET_SANITIZE}")
    add_compile_options(-fsanitize=${_coronet_san} -fno-omit-frame-pointer -fno-sanitize-recover=all)
    add_link_options(-fsanitize=${_coronet_san})
    if("thread" IN_LIST CORONET_SANITIZE)
        # Asio's fenced blocks use std::atomic_thread_fence, which ThreadSanitizer
        # does not model; its handler queues are mutex-protected without them.
        add_compile_definitions(ASIO_DISABLE_FENCED_BLOCK)
    endif()
endif()
