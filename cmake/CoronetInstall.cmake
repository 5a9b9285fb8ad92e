# Installs headers, libraries and a CMake package: an outside project does
# find_package(coronet) and links coronet::coronet. A new module adds its
# library target to the install(TARGETS) list and its include/ directory to
# the install(DIRECTORY) list.
include(CMakePackageConfigHelpers)

set(CORONET_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/coronet)

install(TARGETS coronet coronet_runtime coronet_actors coronet_net coronet_odbc
    EXPORT coronetTargets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
    INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY runtime/include/ actors/include/ net/include/ include/
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
    FILES_MATCHING PATTERN "*.hpp")

install(EXPORT coronetTargets
    NAMESPACE coronet::
    DESTINATION ${CORONET_INSTALL_CMAKEDIR})
configure_package_config_file(cmake/coronetConfig.cmake.in
    ${CMAKE_CURRENT_BINARY_DIR}/coronetConfig.cmake
    INSTALL_DESTINATION ${CORONET_INSTALL_CMAKEDIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/coronetConfigVersion.cmake
    COMPATIBILITY SameMinorVersion)
install(FILES
    ${CMAKE_CURRENT_BINARY_DIR}/coronetConfig.cmake
    ${CMAKE_CURRENT_BINARY_DIR}/coronetConfigVersion.cmake
    cmake/Findasio_headers.cmake
    DESTINATION ${CORONET_INSTALL_CMAKEDIR})
