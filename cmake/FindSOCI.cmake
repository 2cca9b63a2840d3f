# FindSOCI
# --------
# Debian's libsoci-dev ships no CMake package, so SOCI is found by hand here. The same module
# serves a Conan build, where SOCI_ROOT (or CMAKE_PREFIX_PATH) points at the package.
#
# Components: sqlite3, postgresql (others SOCI builds, such as mysql, work the same way).
# Imported targets: SOCI::core and SOCI::<component>; SOCI::<component> links SOCI::core and the
# database client library it needs (SQLite3::SQLite3, PostgreSQL::PostgreSQL).
# Result variables: SOCI_FOUND, SOCI_INCLUDE_DIR, SOCI_<component>_FOUND.

find_path(SOCI_INCLUDE_DIR NAMES soci/soci.h PATH_SUFFIXES include)
find_library(SOCI_CORE_LIBRARY NAMES soci_core soci_core_4_0)
mark_as_advanced(SOCI_INCLUDE_DIR SOCI_CORE_LIBRARY)

foreach(component IN LISTS SOCI_FIND_COMPONENTS)
  find_library(SOCI_${component}_LIBRARY NAMES soci_${component} soci_${component}_4_0)
  mark_as_advanced(SOCI_${component}_LIBRARY)
  set(SOCI_${component}_FOUND FALSE)
  if(SOCI_${component}_LIBRARY)
    if(component STREQUAL "sqlite3")
      find_package(SQLite3 QUIET)
      if(SQLite3_FOUND)
        set(SOCI_${component}_FOUND TRUE)
      endif()
    elseif(component STREQUAL "postgresql")
      find_package(PostgreSQL QUIET)
      if(PostgreSQL_FOUND)
        set(SOCI_${component}_FOUND TRUE)
      endif()
    else()
      set(SOCI_${component}_FOUND TRUE)
    endif()
  endif()
endforeach()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(SOCI
  REQUIRED_VARS SOCI_CORE_LIBRARY SOCI_INCLUDE_DIR
  HANDLE_COMPONENTS)

if(SOCI_FOUND AND NOT TARGET SOCI::core)
  add_library(SOCI::core UNKNOWN IMPORTED)
  set_target_properties(SOCI::core PROPERTIES
    IMPORTED_LOCATION "${SOCI_CORE_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${SOCI_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES "${CMAKE_DL_LIBS}")
  foreach(component IN LISTS SOCI_FIND_COMPONENTS)
    if(SOCI_${component}_FOUND AND NOT TARGET SOCI::${component})
      add_library(SOCI::${component} UNKNOWN IMPORTED)
      set(client "")
      if(component STREQUAL "sqlite3")
        set(client SQLite::SQLite3)
      elseif(component STREQUAL "postgresql")
        set(client PostgreSQL::PostgreSQL)
      endif()
      set_target_properties(SOCI::${component} PROPERTIES
        IMPORTED_LOCATION "${SOCI_${component}_LIBRARY}"
        INTERFACE_LINK_LIBRARIES "SOCI::core;${client}")
    endif()
  endforeach()
endif()
