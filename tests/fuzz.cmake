# libFuzzer targets: with -DAGORA_FUZZ=ON and clang, one executable per
# tests/fuzz/fuzz_*.c in ${CMAKE_BINARY_DIR}/fuzz/. They link a static copy of the
# library built with -fsanitize=fuzzer-no-link (plus ASan/UBSan), so the regular
# library stays uninstrumented. It holds the sources that need no client library
# (codec, util, config, core, the backend registry with every configuration section,
# and the backends built on the system alone): the configuration names every backend
# through the registry. scripts/run-fuzz.sh runs them.
if(AGORA_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "AGORA_FUZZ=ON needs clang: cmake -DCMAKE_C_COMPILER=clang -DAGORA_FUZZ=ON")
  endif()
  set(AGORA_FUZZ_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=undefined
    -fno-omit-frame-pointer -g -O1)
  file(GLOB AGORA_FUZZ_LIB_SOURCES CONFIGURE_DEPENDS
    ${CMAKE_SOURCE_DIR}/src/codec/*.c ${CMAKE_SOURCE_DIR}/src/util/*.c
    ${CMAKE_SOURCE_DIR}/src/config/*.c ${CMAKE_SOURCE_DIR}/src/core/*.c
    ${CMAKE_SOURCE_DIR}/src/backend/registry.c ${CMAKE_SOURCE_DIR}/src/backend/*/*_config.c
    ${CMAKE_SOURCE_DIR}/src/backend/p2p/*.c ${CMAKE_SOURCE_DIR}/src/backend/disabled/*.c)
  list(REMOVE_DUPLICATES AGORA_FUZZ_LIB_SOURCES)
  add_library(agora_fuzzlib STATIC ${AGORA_FUZZ_LIB_SOURCES})
  target_include_directories(agora_fuzzlib PUBLIC ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR}/src)
  target_compile_options(agora_fuzzlib PRIVATE -fsanitize=fuzzer-no-link ${AGORA_FUZZ_FLAGS})
  target_link_libraries(agora_fuzzlib PUBLIC ${AGORA_LIBS})

  file(GLOB AGORA_FUZZ_TARGETS CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_*.c)
  foreach(src ${AGORA_FUZZ_TARGETS})
    get_filename_component(name ${src} NAME_WE)
    add_executable(${name} ${src})
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer ${AGORA_FUZZ_FLAGS})
    target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_libraries(${name} PRIVATE agora_fuzzlib)
    set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz)
  endforeach()
endif()
if(AGORA_FUZZ)
  # `cmake --build B --target fuzz_targets` builds just the fuzzers (not the whole tree).
  set(_fuzz_names)
  foreach(src ${AGORA_FUZZ_TARGETS})
    get_filename_component(name ${src} NAME_WE)
    list(APPEND _fuzz_names ${name})
  endforeach()
  add_custom_target(fuzz_targets DEPENDS ${_fuzz_names})
endif()
