# SPDX-License-Identifier: MIT
# imgbus_module(NAME DEPS...) builds src/NAME/*.cpp into the static library imgbus_NAME, with the
# public headers under include/ and the module's own folder for private headers.
function(imgbus_module name)
    file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
    list(FILTER sources EXCLUDE REGEX "/main\\.cpp$")
    if(NOT sources)
        # A module whose sources have not landed yet still configures, so that the others build.
        add_library(imgbus_${name} INTERFACE)
        target_include_directories(imgbus_${name} INTERFACE ${IMGBUS_INCLUDE_DIR})
        return()
    endif()
    add_library(imgbus_${name} STATIC ${sources})
    target_include_directories(imgbus_${name}
        PUBLIC ${IMGBUS_INCLUDE_DIR}
        PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
    target_link_libraries(imgbus_${name} ${ARGN})
endfunction()
