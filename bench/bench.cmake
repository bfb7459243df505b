# The raw-client baselines for `make bench` (scripts/bench.sh): one program per
# client library, built into ${CMAKE_BINARY_DIR}/bench/. Each shares the measuring
# code of `agora bench` (the agora_bench library, src/bench/) through bench/base_driver.c.
# Included from tests/bench.cmake (tests/*.cmake are included automatically); safe
# to include from the top-level CMakeLists.txt as well.
include_guard(GLOBAL)

set(AGORA_BENCH_DIR ${CMAKE_CURRENT_LIST_DIR})

#   agora_baseline(name [SOURCES extra.c ...] [LIBS lib ...])
function(agora_baseline name)
  cmake_parse_arguments(B "" "" "SOURCES;LIBS" ${ARGN})
  if(NOT EXISTS ${AGORA_BENCH_DIR}/base_${name}.c)
    return()
  endif()
  list(TRANSFORM B_SOURCES PREPEND ${AGORA_BENCH_DIR}/)
  add_executable(base_${name} ${AGORA_BENCH_DIR}/base_${name}.c ${B_SOURCES}
    ${AGORA_BENCH_DIR}/base_driver.c)
  target_include_directories(base_${name} PRIVATE ${AGORA_BENCH_DIR})
  target_link_libraries(base_${name} PRIVATE agora_bench Threads::Threads ${B_LIBS})
  set_target_properties(base_${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
  set_property(GLOBAL APPEND PROPERTY AGORA_BASELINES base_${name})
endfunction()

# The socket baselines share their mesh (bench/base_stream.c).
agora_baseline(tcp SOURCES base_stream.c)
agora_baseline(tls SOURCES base_stream.c LIBS OpenSSL::SSL OpenSSL::Crypto)
# The client libraries are looked up here on their own, so the baselines build even
# when agora itself was configured without a backend.
pkg_check_modules(AGB_HIREDIS QUIET IMPORTED_TARGET hiredis)
pkg_check_modules(AGB_RDKAFKA QUIET IMPORTED_TARGET rdkafka)
find_library(AGB_NATS_LIB nats)
find_path(AGB_NATS_INC nats/nats.h)
if(AGB_HIREDIS_FOUND)
  agora_baseline(redis LIBS PkgConfig::AGB_HIREDIS)
endif()
if(AGB_NATS_LIB AND AGB_NATS_INC)
  agora_baseline(nats LIBS ${AGB_NATS_LIB})
endif()
if(AGB_RDKAFKA_FOUND)
  agora_baseline(kafka LIBS PkgConfig::AGB_RDKAFKA)
endif()

# The Zenoh baseline uses agora's shim (cmake/zenoh.cmake, included before the tests).
if(TARGET agora_zenoh_shim)
  agora_baseline(zenoh LIBS agora_zenoh_shim)
endif()

get_property(_agora_baselines GLOBAL PROPERTY AGORA_BASELINES)
add_custom_target(baselines DEPENDS ${_agora_baselines})

# Starts redis-server / nats-server through the tests' own fixtures (tests/support).
if(TARGET agora_testsupport)
  add_executable(bench_servers ${AGORA_BENCH_DIR}/bench_servers.c)
  target_link_libraries(bench_servers PRIVATE agora_testsupport)
  set_target_properties(bench_servers PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
  add_dependencies(baselines bench_servers)
endif()
