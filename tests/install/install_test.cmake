# cmake -DBUILD_DIR=... -DCONSUMER_DIR=... -DWORK_DIR=... -DGENERATOR=... -DCXX=...
#       [-DLAUNCHER=...] [-DBUILD_TYPE=...] -P install_test.cmake
#
# Installs BUILD_DIR into WORK_DIR/prefix, configures and builds the project in
# CONSUMER_DIR against that prefix alone, and runs the program it builds.

foreach(var BUILD_DIR CONSUMER_DIR WORK_DIR GENERATOR CXX)
    if(NOT ${var})
        message(FATAL_ERROR "install_test.cmake: ${var} is not set")
    endif()
endforeach()
if(NOT BUILD_TYPE)
    set(BUILD_TYPE RelWithDebInfo)
endif()

set(prefix ${WORK_DIR}/prefix)
set(consumer_build ${WORK_DIR}/consumer)
file(REMOVE_RECURSE ${WORK_DIR})

message(STATUS "installing ${BUILD_DIR} into ${prefix}")
execute_process(
    COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix} --config ${BUILD_TYPE}
    OUTPUT_QUIET
    COMMAND_ERROR_IS_FATAL ANY)

message(STATUS "configuring the consumer against ${prefix}")
execute_process(
    COMMAND ${CMAKE_COMMAND} -S ${CONSUMER_DIR} -B ${consumer_build} -G ${GENERATOR}
        -DCMAKE_BUILD_TYPE=${BUILD_TYPE}
        -DCMAKE_CXX_COMPILER=${CXX}
        -DCMAKE_CXX_COMPILER_LAUNCHER=${LAUNCHER}
        -DCMAKE_PREFIX_PATH=${prefix}
        -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
    COMMAND_ERROR_IS_FATAL ANY)

# The package must come from the prefix, not from the build tree.
file(STRINGS ${consumer_build}/CMakeCache.txt found REGEX "^coronet_DIR:")
string(REGEX REPLACE "^coronet_DIR:[A-Z]+=" "" found "${found}")
cmake_path(IS_PREFIX prefix "${found}" NORMALIZE from_prefix)
if(NOT from_prefix)
    message(FATAL_ERROR "coronet was found in '${found}', not under ${prefix}")
endif()

message(STATUS "building the consumer")
execute_process(
    COMMAND ${CMAKE_COMMAND} --build ${consumer_build} --config ${BUILD_TYPE}
    COMMAND_ERROR_IS_FATAL ANY)

message(STATUS "running the consumer")
execute_process(
    COMMAND ${consumer_build}/coronet_consumer
    COMMAND_ERROR_IS_FATAL ANY)
