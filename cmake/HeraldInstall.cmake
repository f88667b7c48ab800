include(CMakePackageConfigHelpers)

install(TARGETS herald EXPORT heraldTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# The components' headers are installed with their targets (src/sqlite, src/postgres,
# src/prometheus).
install(DIRECTORY include/herald DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} PATTERN sqlite EXCLUDE
        PATTERN postgres EXCLUDE PATTERN prometheus EXCLUDE)

set(herald_config_dir ${CMAKE_INSTALL_LIBDIR}/cmake/herald)
install(EXPORT heraldTargets NAMESPACE herald:: DESTINATION ${herald_config_dir})
configure_package_config_file(cmake/heraldConfig.cmake.in
    ${CMAKE_CURRENT_BINARY_DIR}/heraldConfig.cmake
    INSTALL_DESTINATION ${herald_config_dir})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/heraldConfigVersion.cmake
    COMPATIBILITY SameMinorVersion)
install(FILES
    ${CMAKE_CURRENT_BINARY_DIR}/heraldConfig.cmake
    ${CMAKE_CURRENT_BINARY_DIR}/heraldConfigVersion.cmake
    DESTINATION ${herald_config_dir})
