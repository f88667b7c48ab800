include(CMakePackageConfigHelpers)

install(TARGETS herald EXPORT heraldTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# The components' headers are installed with their targets (herald_install_component).
install(DIRECTORY include/herald DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} PATTERN sqlite EXCLUDE
        PATTERN postgres EXCLUDE PATTERN prometheus EXCLUDE PATTERN testing EXCLUDE)

set(herald_config_dir ${CMAKE_INSTALL_LIBDIR}/cmake/herald)

# Installs the optional component `name` when it is built: its target herald_<name>, its headers
# (include/herald/<headers>/, <headers> `name` unless given) and its export set,
# herald<Export>Targets.cmake beside herald's own, which heraldConfig.cmake includes for
# find_package(herald COMPONENTS <name>). An object library's objects go to lib/herald/<name>.
function(herald_install_component name export)
    if(NOT TARGET herald_${name})
        return()
    endif()
    set(headers ${name})
    if(ARGC GREATER 2)
        set(headers ${ARGV2})
    endif()
    install(TARGETS herald_${name} EXPORT herald${export}Targets
            ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
            LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
            RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
            OBJECTS DESTINATION ${CMAKE_INSTALL_LIBDIR}/herald/${name})
    install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/herald/${headers}
            DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/herald)
    install(EXPORT herald${export}Targets NAMESPACE herald:: DESTINATION ${herald_config_dir})
endfunction()

herald_install_component(sqlite Sqlite)
herald_install_component(postgres Postgres)
herald_install_component(prometheus Prometheus)
herald_install_component(storage_suite StorageSuite testing)

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
