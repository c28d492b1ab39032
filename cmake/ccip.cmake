# Helpers shared by every CMakeLists.txt in the tree.

# ccip_add_test(NAME <name> SOURCES <files...> LABELS <labels...> [LIBS <libs...>])
# One cmocka executable per unit, registered with ctest under its labels
# (unit, integration, slow) so that `scripts/test unit` gives a quick loop.
function(ccip_add_test)
    cmake_parse_arguments(T "" "NAME;TIMEOUT" "SOURCES;LABELS;LIBS" ${ARGN})
    add_executable(${T_NAME} ${T_SOURCES})
    target_link_libraries(${T_NAME} PRIVATE ccip_common ccip_testsupport PkgConfig::CMOCKA ${T_LIBS})
    add_test(NAME ${T_NAME} COMMAND ${T_NAME})
    if(NOT T_TIMEOUT)
        set(T_TIMEOUT 120)
    endif()
    set_tests_properties(${T_NAME} PROPERTIES LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT}
                         ENVIRONMENT "CCIP_SOURCE_DIR=${PROJECT_SOURCE_DIR};CCIP_BINARY_DIR=${PROJECT_BINARY_DIR}")
endfunction()

# ccip_embed_migrations(<target> <component> <dir>)
# Compiles the numbered SQL files of <dir> into the binary as a table
# `<component>_migrations` (see common/ccip_migrate.h), so that a binary always
# carries exactly the migrations of its own code version.
function(ccip_embed_migrations target component dir)
    file(GLOB sql_files CONFIGURE_DEPENDS "${dir}/[0-9][0-9][0-9][0-9]_*.sql")
    list(SORT sql_files)
    set(out "${CMAKE_CURRENT_BINARY_DIR}/${component}_migrations.c")
    # The list travels as one argument: its semicolons must survive the
    # shell, or the script sees only the first file.
    string(REPLACE ";" "$<SEMICOLON>" files_arg "${sql_files}")
    add_custom_command(
        OUTPUT "${out}"
        COMMAND ${CMAKE_COMMAND} -DCOMPONENT=${component} -DOUT=${out}
                "-DFILES=${files_arg}" -P "${PROJECT_SOURCE_DIR}/cmake/embed_migrations.cmake"
        DEPENDS ${sql_files} "${PROJECT_SOURCE_DIR}/cmake/embed_migrations.cmake"
        COMMENT "embedding ${component} migrations"
        VERBATIM)
    target_sources(${target} PRIVATE "${out}")
endfunction()
