# Warnings apply to project targets only (never to third-party headers, which come in as SYSTEM).
add_library(petit_warnings INTERFACE)
target_compile_options(petit_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wcast-align -Wunused -Wdouble-promotion -Wformat=2
  $<$<COMPILE_LANGUAGE:CXX>:-Wold-style-cast -Wnon-virtual-dtor -Woverloaded-virtual>
  # Not -Wnull-dereference: at -O2 GCC 12 reports it inside libstdc++'s stream iterators.
  # GCC 12 reports false -Wrestrict on "literal" + std::string at -O3 (GCC bug 105329).
  $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict>)
if(PETIT_WERROR)
  target_compile_options(petit_warnings INTERFACE -Werror)
endif()

# Clang checks the lock annotations (GUARDED_BY, REQUIRES...: petit/core/thread_annotations.h).
# GCC has no such analysis, so asking for it there is a mistake rather than a no-op.
option(PETIT_THREAD_SAFETY "Check the lock annotations with clang's -Wthread-safety, as errors" OFF)
if(PETIT_THREAD_SAFETY)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "PETIT_THREAD_SAFETY needs clang (the thread-safety preset uses clang++)")
  endif()
  target_compile_options(petit_warnings INTERFACE -Wthread-safety -Werror=thread-safety)
endif()

if(PETIT_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# Every object of a fuzz build carries libFuzzer's coverage hooks and the sanitizers; the fuzz
# targets alone link libFuzzer's main (-fsanitize=fuzzer, fuzz/CMakeLists.txt).
if(PETIT_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "PETIT_FUZZ needs clang (the fuzz preset uses clang++)")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
    -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# petit_target_defaults(TARGET): warnings and hidden visibility for a project target.
function(petit_target_defaults target)
  target_link_libraries(${target} PRIVATE petit_warnings)
  set_target_properties(${target} PROPERTIES
    CXX_VISIBILITY_PRESET hidden
    C_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
endfunction()
