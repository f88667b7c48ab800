# herald_set_warnings(target): the project's warning set; errors when HERALD_WARNINGS_AS_ERRORS is on (CI).
function(herald_set_warnings target)
    # GCC 12 reports designated initializers that leave defaulted members out, which is how
    # herald's configuration and value types are meant to be written.
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wno-missing-field-initializers)
    # GCC 12 at -O3 reports `"text" + std::string(...)` as an overlapping memcpy (GCC bug 105651,
    # fixed in 13), in herald's code and in its tests alike; it is off for GCC 12.
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
        target_compile_options(${target} PRIVATE -Wno-restrict)
    endif()
    if(HERALD_WARNINGS_AS_ERRORS)
        target_compile_options(${target} PRIVATE -Werror)
    endif()
endfunction()
