# cmake -DREADME=README.md -DEXAMPLE=examples/<name>/main.cpp -P CheckReadmeExample.cmake
#
# Fails unless the first ```cpp block of README is exactly the text of EXAMPLE,
# so that the example on the README's first screen is the one CI builds and runs.

file(READ ${README} readme)
file(READ ${EXAMPLE} example)

string(FIND "${readme}" "```cpp\n" begin)
if(begin EQUAL -1)
    message(FATAL_ERROR "${README} has no ```cpp block")
endif()
math(EXPR begin "${begin} + 7")
string(SUBSTRING "${readme}" ${begin} -1 rest)
string(FIND "${rest}" "```" end)
string(SUBSTRING "${rest}" 0 ${end} block)

if(NOT block STREQUAL example)
    message(FATAL_ERROR "the first ```cpp block of ${README} differs from ${EXAMPLE}: "
                        "copy the example into the README")
endif()
message(STATUS "the README shows ${EXAMPLE}")
