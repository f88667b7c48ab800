# herald_set_warnings(target): the project's warning set; errors when HERALD_WARNINGS_AS_ERRORS is on (CI).
function(herald_set_warnings target)
    # GCC 12 reports designated initializers that leave defaulted members out, which is how
    # herald's configuration and value types are meant to be written.
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wno-missing-field-initializers)
    if(HERALD_WARNINGS_AS_ERRORS)
        target_compile_options(${target} PRIVATE -Werror)
    endif()
endfunction()
