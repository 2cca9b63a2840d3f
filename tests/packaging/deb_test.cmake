# cmake -DCPACK=<cpack> -DBUILD_DIR=<petit build> -DSOURCE_DIR=<petit source> -DWORK_DIR=<scratch>
#       -DVERSION=<project version> -DPLUGIN_DIR=<built first-party plugins> -DGENERATOR=<gen>
#       -DC_COMPILER=<cc> -DCXX_COMPILER=<c++> -P deb_test.cmake
#
# What an operator gets from `cpack -G DEB`, checked without touching the machine: both packages
# are built into WORK_DIR, their control data and file lists are read with dpkg-deb, petit is
# unpacked into a scratch root with dpkg -x (no maintainer script runs) and the unpacked binary
# runs against examples/ with the unpacked plugins. Last, a plugin built against the unpacked
# petit-dev installs where that petit finds it.
cmake_minimum_required(VERSION 3.22)

foreach(var CPACK BUILD_DIR SOURCE_DIR WORK_DIR VERSION PLUGIN_DIR GENERATOR C_COMPILER
    CXX_COMPILER)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "deb_test.cmake: ${var} is not set")
  endif()
endforeach()

# run(<out_var> <command>...): runs the command in SOURCE_DIR, bounded in time; any exit but 0
# fails the test with the command and its output. <out_var> receives stdout and stderr.
function(run out_var)
  execute_process(COMMAND ${ARGN}
    WORKING_DIRECTORY "${SOURCE_DIR}"
    TIMEOUT 120
    RESULT_VARIABLE rc
    OUTPUT_VARIABLE out
    ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " command "${ARGN}")
    message(FATAL_ERROR "failed (${rc}): ${command}\n${out}\n${err}")
  endif()
  set(${out_var} "${out}${err}" PARENT_SCOPE)
endfunction()

# fail(<message>): "${ARGV}" rather than ${ARGN}, which would drop the message's semicolons.
function(fail)
  message(FATAL_ERROR "${ARGV}")
endfunction()

# package_paths(<out_var> <deb>): the paths in the package's data archive, as "./usr/bin/petit"
# (directories end with "/"); every entry must belong to root.
function(package_paths out_var deb)
  run(listing dpkg-deb --contents "${deb}")
  string(REGEX MATCHALL "[^\n]+" lines "${listing}")
  set(paths "")
  foreach(line IN LISTS lines)
    if(NOT line MATCHES "^[-dl][-rwxsStT]+ +([^ ]+) +[0-9]+ +[^ ]+ +[^ ]+ +(\\./[^ ]*)")
      fail("unexpected line in dpkg-deb --contents ${deb}: ${line}")
    endif()
    if(NOT CMAKE_MATCH_1 STREQUAL "root/root")
      fail("${CMAKE_MATCH_2} in ${deb} belongs to ${CMAKE_MATCH_1}, not root/root")
    endif()
    list(APPEND paths "${CMAKE_MATCH_2}")
  endforeach()
  set(${out_var} "${paths}" PARENT_SCOPE)
endfunction()

function(expect_field deb field expected)
  run(value dpkg-deb --field "${deb}" "${field}")
  string(STRIP "${value}" value)
  if(NOT value STREQUAL expected)
    fail("${deb}: ${field} is '${value}', expected '${expected}'")
  endif()
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

# --- Build both packages in one cpack run, into the scratch directory only. ---
find_program(DPKG_SHLIBDEPS dpkg-shlibdeps)
if(NOT DPKG_SHLIBDEPS)
  fail("dpkg-shlibdeps is missing (package dpkg-dev): petit's Depends come from it")
endif()
run(cpack_output "${CPACK}" -G DEB --config "${BUILD_DIR}/CPackConfig.cmake" -B "${WORK_DIR}/out")
run(arch dpkg --print-architecture)
string(STRIP "${arch}" arch)
set(petit_deb "${WORK_DIR}/out/petit_${VERSION}_${arch}.deb")
set(dev_deb "${WORK_DIR}/out/petit-dev_${VERSION}_${arch}.deb")
file(GLOB debs "${WORK_DIR}/out/*.deb")
list(SORT debs)
set(expected_debs "${dev_deb}" "${petit_deb}")
list(SORT expected_debs)
if(NOT debs STREQUAL expected_debs)
  fail("cpack -G DEB made '${debs}', expected '${expected_debs}'\n${cpack_output}")
endif()

# --- petit: control data. ---
expect_field("${petit_deb}" Package petit)
expect_field("${petit_deb}" Version "${VERSION}")
expect_field("${petit_deb}" Architecture "${arch}")
expect_field("${petit_deb}" Section admin)
run(depends dpkg-deb --field "${petit_deb}" Depends)
foreach(dependency adduser libc6 libstdc\\+\\+6 libyaml-0-2 libsoci-core libsqlite3)
  if(NOT depends MATCHES "(^|, )${dependency}")
    fail("petit's Depends lacks ${dependency} (dpkg-shlibdeps did not run?): ${depends}")
  endif()
endforeach()
# libyaml reads YAML; yaml-cpp is the tests' reference only and no installed program links it.
if(depends MATCHES "libyaml-cpp")
  fail("petit's Depends names libyaml-cpp, which petit no longer links: ${depends}")
endif()
run(maintainer dpkg-deb --field "${petit_deb}" Maintainer)
if(NOT maintainer MATCHES "<[^ >]+@[^ >]+>")
  fail("petit's Maintainer has no address: ${maintainer}")
endif()

run(info dpkg-deb --info "${petit_deb}")
set(control_dir "${WORK_DIR}/control")
run(_ dpkg-deb --control "${petit_deb}" "${control_dir}")
foreach(script postinst prerm postrm)
  if(NOT info MATCHES "\\*  ${script} ")
    fail("petit's ${script} is missing or not executable:\n${info}")
  endif()
  run(_ sh -n "${control_dir}/${script}")
endforeach()
file(READ "${control_dir}/postinst" postinst)
foreach(needle "adduser --system" "getent passwd petit" "-o petit -g petit" "/var/lib/petit")
  string(FIND "${postinst}" "${needle}" at)
  if(at EQUAL -1)
    fail("petit's postinst does not contain '${needle}'")
  endif()
endforeach()
file(READ "${control_dir}/postrm" postrm)
if(postrm MATCHES "(deluser|userdel|rm -r)")
  fail("petit's postrm removes the user or data: '${CMAKE_MATCH_1}'")
endif()
file(STRINGS "${control_dir}/conffiles" conffiles)
if(NOT conffiles STREQUAL "/etc/petit/petit.yaml")
  fail("petit's conffiles are '${conffiles}', expected /etc/petit/petit.yaml")
endif()

# --- petit: the files, and nothing of the SDK, the examples or the tests. ---
package_paths(petit_paths "${petit_deb}")
file(GLOB built_plugins RELATIVE "${PLUGIN_DIR}" "${PLUGIN_DIR}/*.so")
if(NOT built_plugins)
  fail("no first-party plugin in ${PLUGIN_DIR}")
endif()
set(expected_paths
  ./usr/bin/petit
  ./lib/systemd/system/petit.service
  ./etc/petit/petit.yaml
  ./etc/petit/jobs/
  ./usr/share/doc/petit/README.md)
# Petit's internal modules (petit/storage/internal_module.h), beside the plugins' directory.
set(expected_modules
  ./usr/lib/petit/modules/petit_api.so
  ./usr/lib/petit/modules/petit_graphviz.so
  ./usr/lib/petit/modules/petit_postgresql.so
  ./usr/lib/petit/modules/petit_sqlite.so)
set(expected_plugins "")
foreach(plugin IN LISTS built_plugins)
  list(APPEND expected_plugins "./usr/lib/petit/plugins/${plugin}")
endforeach()
foreach(path IN LISTS expected_paths expected_plugins expected_modules)
  if(NOT path IN_LIST petit_paths)
    fail("the petit package lacks ${path}; it has:\n${petit_paths}")
  endif()
endforeach()
set(packaged_plugins "${petit_paths}")
list(FILTER packaged_plugins INCLUDE REGEX "/plugins/.*\\.so$")
list(SORT packaged_plugins)
list(SORT expected_plugins)
if(NOT packaged_plugins STREQUAL expected_plugins)
  fail("petit ships the plugins '${packaged_plugins}', expected '${expected_plugins}'")
endif()
foreach(path IN LISTS petit_paths)
  # /var/lib/petit is the postinst's, so that its owner is the petit user.
  if(path MATCHES "^\\./(usr/include|usr/lib/cmake|var)/")
    fail("the petit package ships ${path}")
  endif()
endforeach()

# --- petit-dev: control data and files; no file in both packages. ---
expect_field("${dev_deb}" Package petit-dev)
expect_field("${dev_deb}" Version "${VERSION}")
expect_field("${dev_deb}" Architecture "${arch}")
expect_field("${dev_deb}" Section libdevel)
package_paths(dev_paths "${dev_deb}")
foreach(header plugin.h plugin.hpp plugin_json.hpp plugin_status.hpp plugin_testing.hpp
    testing/harness.h testing/timeline.h testing/mock_task_context.h)
  if(NOT "./usr/include/petit/${header}" IN_LIST dev_paths)
    fail("petit-dev lacks ./usr/include/petit/${header}")
  endif()
endforeach()
set(matching "${dev_paths}")
list(FILTER matching INCLUDE REGEX "^\\./usr/lib/(.+/)?libpetit_testing\\.so")
if(NOT matching)
  fail("petit-dev lacks libpetit_testing.so")
endif()
foreach(file PetitSDKConfig.cmake PetitSDKConfigVersion.cmake PetitSDKTargets.cmake
    PetitPlugin.cmake)
  set(matching "${dev_paths}")
  list(FILTER matching INCLUDE REGEX "^\\./usr/lib/(.+/)?cmake/PetitSDK/${file}$")
  if(NOT matching)
    fail("petit-dev lacks the CMake package file ${file}")
  endif()
endforeach()
foreach(path IN LISTS dev_paths)
  if(NOT path MATCHES "/$" AND path IN_LIST petit_paths)
    fail("${path} is in both petit and petit-dev")
  endif()
endforeach()

# --- Unpack petit; its unit starts the binary it installs. ---
set(root "${WORK_DIR}/root")
run(_ dpkg --extract "${petit_deb}" "${root}")
# The host reports plugin paths from /proc/self/exe, which resolves symbolic links.
file(REAL_PATH "${root}" root)
file(STRINGS "${root}/lib/systemd/system/petit.service" exec_start REGEX "^ExecStart=")
if(NOT exec_start MATCHES "^ExecStart=([^ ]+) run ")
  fail("petit.service: no 'ExecStart=<petit> run ...' line: ${exec_start}")
endif()
if(NOT CMAKE_MATCH_1 STREQUAL "/usr/bin/petit")
  fail("petit.service starts ${CMAKE_MATCH_1}, but the package installs /usr/bin/petit")
endif()
file(STRINGS "${root}/lib/systemd/system/petit.service" unit_user REGEX "^User=")
if(NOT unit_user STREQUAL "User=petit")
  fail("petit.service runs as '${unit_user}', not the petit user the postinst creates")
endif()

# --- Run the unpacked petit. State would go under WORK_DIR; the runs use memory: anyway. ---
set(petit "${CMAKE_COMMAND}" -E env "PETIT_STATE_DIR=${WORK_DIR}/state" "HOME=${WORK_DIR}/home"
  "XDG_STATE_HOME=${WORK_DIR}/home/.local/state" "${root}/usr/bin/petit")

run(version ${petit} version)
if(NOT version MATCHES "${VERSION}")
  fail("petit version printed '${version}', expected ${VERSION}")
endif()

# plugins_of(<out_var> <plugins output>): the .so paths `petit plugins` printed.
function(plugins_of out_var output)
  string(REGEX MATCHALL "[^\n ]+\\.so" paths "${output}")
  set(${out_var} "${paths}" PARENT_SCOPE)
endfunction()

run(plugins_output ${petit} plugins)
plugins_of(loaded "${plugins_output}")
set(expected_loaded "")
foreach(plugin IN LISTS built_plugins)
  list(APPEND expected_loaded "${root}/usr/lib/petit/plugins/${plugin}")
endforeach()
list(SORT loaded)
list(SORT expected_loaded)
if(NOT loaded STREQUAL expected_loaded)
  fail("the unpacked petit loaded '${loaded}', not its own '${expected_loaded}'\n${plugins_output}")
endif()

run(_ ${petit} validate examples)
# The shipped petit.yaml is valid as shipped, and with every commented-out key switched on (its
# plugin_dirs example pointed at a directory that exists here).
run(_ ${petit} validate examples --config "${root}/etc/petit/petit.yaml")
file(READ "${root}/etc/petit/petit.yaml" config)
string(REGEX REPLACE "(^|\n)# ([a-z_]+:)" "\\1\\2" every_key "${config}")
string(REGEX REPLACE "(\nplugin_dirs:)[^\n]*" "\\1 [plugins]" every_key "${every_key}")
if(every_key STREQUAL config OR NOT every_key MATCHES "\nplugin_dirs: \\[plugins\\]")
  fail("petit.yaml has no commented-out keys to check, or no plugin_dirs example")
endif()
file(MAKE_DIRECTORY "${WORK_DIR}/config/plugins")
file(WRITE "${WORK_DIR}/config/petit.yaml" "${every_key}")
run(_ ${petit} validate examples --config "${WORK_DIR}/config/petit.yaml")

run(trigger_output ${petit} trigger examples hello_world --storage memory:)
string(FIND "${trigger_output}" "Hello, World from Petit!" at)
if(at EQUAL -1)
  fail("petit trigger examples hello_world did not print the greeting:\n${trigger_output}")
endif()

# The unpacked petit finds its modules: `graph --format svg` renders through the Graphviz one, a
# sqlite: store is opened through the SQLite one, and a postgresql: store through the PostgreSQL
# one (the failure is libpq's, inside it).
run(_ ${petit} trigger examples hello_world --storage "sqlite:${WORK_DIR}/state/modules.db")
run(sqlite_runs ${petit} runs --storage "sqlite:${WORK_DIR}/state/modules.db")
if(NOT sqlite_runs MATCHES "hello_world")
  fail("petit runs on the SQLite store does not list the run just made:\n${sqlite_runs}")
endif()
run(svg ${petit} graph examples hello_world --format svg)
if(NOT svg MATCHES "</svg>")
  fail("petit graph --format svg did not print SVG:\n${svg}")
endif()
execute_process(COMMAND ${petit} runs --storage "postgresql://petit@127.0.0.1:1/petit?connect_timeout=1"
  WORKING_DIRECTORY "${SOURCE_DIR}" TIMEOUT 60 RESULT_VARIABLE rc OUTPUT_VARIABLE out
  ERROR_VARIABLE err)
if(rc EQUAL 0 OR NOT err MATCHES "cannot connect to PostgreSQL" OR err MATCHES "module")
  fail("petit runs on an unreachable PostgreSQL did not fail inside the module (${rc}):\n${err}")
endif()

# --- petit-dev: a plugin built against the unpacked SDK installs where the unpacked petit
# looks, as an outside project would do it (no Petit variables, no sanitizers). ---
set(dev_root "${WORK_DIR}/dev_root")
run(_ dpkg --extract "${dev_deb}" "${dev_root}")
run(_ "${CMAKE_COMMAND}" -S "${SOURCE_DIR}/sdk/examples" -B "${WORK_DIR}/examples"
  -G "${GENERATOR}"
  "-DCMAKE_PREFIX_PATH=${dev_root}/usr" "-DCMAKE_C_COMPILER=${C_COMPILER}"
  "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}" -DCMAKE_BUILD_TYPE=Release
  "-DCMAKE_INSTALL_PREFIX=${root}/usr")
run(_ "${CMAKE_COMMAND}" --build "${WORK_DIR}/examples")
run(_ "${CMAKE_COMMAND}" --install "${WORK_DIR}/examples")
run(plugins_output ${petit} plugins)
plugins_of(loaded "${plugins_output}")
foreach(example hello_c.so upper_cpp.so)
  if(NOT "${root}/usr/lib/petit/plugins/${example}" IN_LIST loaded)
    fail("${example}, built with petit-dev, is not loaded by the unpacked petit\n${plugins_output}")
  endif()
endforeach()

file(REMOVE_RECURSE "${WORK_DIR}")
