# PetitPlugin.cmake: petit_add_plugin(), shared by the Petit source tree and by the installed
# PetitSDK package (find_package(PetitSDK) includes this file), so a plugin builds the same way
# inside and outside the tree.
#
#   petit_add_plugin(<name> SOURCES <src>... [OUTPUT_DIR <dir>] [LINK_LIBRARIES <lib>...]
#                    [NO_INSTALL])
#
# Builds <name>.so (no "lib" prefix: the file name is what the host lists) as the MODULE library
# target petit_plugin_<name> (prefixed, so that plugins named "command" or "test" cannot collide
# with other targets; use it with target_* commands), which links petit::sdk, compiles C and C++ with hidden visibility, and exports nothing but the two
# ABI entry points (a linker version script hides even the default-visibility template
# instantiations the C++ standard library would otherwise leak). The library lands in OUTPUT_DIR,
# else ${PETIT_PLUGIN_OUTPUT_DIR}, else ${CMAKE_BINARY_DIR}/${PETIT_PLUGIN_SUBDIR}, and installs to
# ${PETIT_PLUGIN_SUBDIR} (default: lib/petit/plugins under the prefix, where the host looks; not
# ${CMAKE_INSTALL_LIBDIR}, which is lib/<multiarch> for a /usr prefix) unless NO_INSTALL is given.
include_guard(GLOBAL)
include(GNUInstallDirs)

function(petit_add_plugin name)
  cmake_parse_arguments(ARG "NO_INSTALL" "OUTPUT_DIR" "SOURCES;LINK_LIBRARIES" ${ARGN})
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "petit_add_plugin(${name}): unexpected arguments: ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "petit_add_plugin(${name}): SOURCES is required")
  endif()

  if(DEFINED PETIT_PLUGIN_SUBDIR)
    set(subdir "${PETIT_PLUGIN_SUBDIR}")
  else()
    set(subdir "lib/petit/plugins")
  endif()
  if(ARG_OUTPUT_DIR)
    set(output_dir "${ARG_OUTPUT_DIR}")
  elseif(DEFINED PETIT_PLUGIN_OUTPUT_DIR)
    set(output_dir "${PETIT_PLUGIN_OUTPUT_DIR}")
  else()
    set(output_dir "${CMAKE_BINARY_DIR}/${subdir}")
  endif()

  # CMAKE_CURRENT_FUNCTION_LIST_DIR, not a variable set at include time: the function is called
  # from directories that do not see the including directory's variables.
  set(export_map "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/petit_plugin.map")

  set(target "petit_plugin_${name}")
  add_library(${target} MODULE ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE petit::sdk ${ARG_LINK_LIBRARIES})
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    OUTPUT_NAME "${name}"
    LIBRARY_OUTPUT_DIRECTORY "${output_dir}"
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    POSITION_INDEPENDENT_CODE ON)
  if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
    target_link_options(${target} PRIVATE "LINKER:--version-script=${export_map}")
    set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS "${export_map}")
  endif()
  # Inside the Petit tree, plugins get the project's warnings like every other target.
  if(COMMAND petit_target_defaults)
    petit_target_defaults(${target})
  endif()
  if(NOT ARG_NO_INSTALL)
    install(TARGETS ${target} LIBRARY DESTINATION "${subdir}" COMPONENT plugins)
  endif()
endfunction()
