# cmake -DBUILD_DIR=<petit build> -DSOURCE_DIR=<petit source> -DWORK_DIR=<scratch>
#       -DGENERATOR=<gen> -DC_COMPILER=<cc> -DCXX_COMPILER=<c++> -DNM=<nm>
#       [-DSANITIZE_FLAGS=<the build's -fsanitize flags>] -P package_test.cmake
#
# What a plugin author outside the tree does: install the SDK package, then build the example
# plugins against it with find_package(PetitSDK) and petit_add_plugin(), and a test of a job and a
# task that links petit::testing (testing_consumer/) and runs it.
cmake_minimum_required(VERSION 3.22)

foreach(var BUILD_DIR SOURCE_DIR WORK_DIR GENERATOR C_COMPILER CXX_COMPILER NM)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "package_test.cmake: ${var} is not set")
  endif()
endforeach()

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " command "${ARGN}")
    message(FATAL_ERROR "failed (${rc}): ${command}\n${out}\n${err}")
  endif()
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")
run("${CMAKE_COMMAND}" --install "${BUILD_DIR}" --component sdk --prefix "${prefix}")
foreach(file include/petit/plugin.h include/petit/plugin.hpp include/petit/plugin_json.hpp
    include/petit/plugin_status.hpp include/petit/plugin_testing.hpp)
  if(NOT EXISTS "${prefix}/${file}")
    message(FATAL_ERROR "the sdk component did not install ${file}")
  endif()
endforeach()

# A fresh project: no Petit variables, no sanitizers, only the installed package.
run("${CMAKE_COMMAND}" -S "${SOURCE_DIR}/sdk/examples" -B "${WORK_DIR}/build" -G "${GENERATOR}"
  "-DCMAKE_PREFIX_PATH=${prefix}" "-DCMAKE_C_COMPILER=${C_COMPILER}"
  "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}" -DCMAKE_BUILD_TYPE=Release)
run("${CMAKE_COMMAND}" --build "${WORK_DIR}/build")

file(GLOB_RECURSE built "${WORK_DIR}/build/*.so")
set(names "")
foreach(path IN LISTS built)
  get_filename_component(name "${path}" NAME)
  list(APPEND names "${name}")
endforeach()
foreach(expected hello_c.so upper_cpp.so)
  if(NOT expected IN_LIST names)
    message(FATAL_ERROR "${expected} was not built (found: ${names})")
  endif()
endforeach()
run("${CMAKE_COMMAND}" "-DNM=${NM}" "-DPLUGINS=${built}"
  -P "${CMAKE_CURRENT_LIST_DIR}/check_plugin_exports.cmake")
# petit::testing from the same package: a user's job and task tests link it and nothing else.
# A sanitized Petit build installs a sanitized library, whose users must link the same runtime.
foreach(file include/petit/testing/harness.h include/petit/testing/timeline.h
    include/petit/testing/mock_task_context.h)
  if(NOT EXISTS "${prefix}/${file}")
    message(FATAL_ERROR "the sdk component did not install ${file}")
  endif()
endforeach()
set(consumer_flags "")
if(SANITIZE_FLAGS)
  set(consumer_flags "-DCMAKE_CXX_FLAGS=${SANITIZE_FLAGS}" "-DCMAKE_EXE_LINKER_FLAGS=${SANITIZE_FLAGS}")
endif()
run("${CMAKE_COMMAND}" -S "${CMAKE_CURRENT_LIST_DIR}/testing_consumer" -B "${WORK_DIR}/consumer"
  -G "${GENERATOR}" "-DCMAKE_PREFIX_PATH=${prefix}" "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
  -DCMAKE_BUILD_TYPE=Release ${consumer_flags})
run("${CMAKE_COMMAND}" --build "${WORK_DIR}/consumer")
run("${WORK_DIR}/consumer/consumer_test")
file(REMOVE_RECURSE "${WORK_DIR}")
