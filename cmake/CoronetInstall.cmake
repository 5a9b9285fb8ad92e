# Installs headers, libraries and a CMake package: an outside project does
# find_package(coronet) and links coronet::coronet.
include(CMakePackageConfigHelpers)

install(TARGETS coronet coronet_runtime coronet_warnings
    EXPORT coronetTargets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY runtime/include/ include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES cmake/Findasio_headers.cmake DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/coronet)

install(EXPORT coronetTargets
    NAMESPACE coronet::
    DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/coronet)
configure_package_config_file(cmake/coronetConfig.cmake.in
    ${CMAKE_CURRENT_BINARY_DIR}/coronetConfig.cmake
    INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/coronet)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/coronetConfigVersion.cmake
    COMPATIBILITY SameMinorVersion)
install(FILES
    ${CMAKE_CURRENT_BINARY_DIR}/coronetConfig.cmake
    ${CMAKE_CURRENT_BINARY_DIR}/coronetConfigVersion.cmake
    DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/coronet)
