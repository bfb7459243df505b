# Benchmarks (issue 6): the baseline programs (bench/bench.cmake) and a quick smoke
# test of `agora bench` on PeerToPeer. The benchmark matrix itself is `make bench`
# (scripts/bench.sh), never part of ctest: it is slow and its numbers are not pass/fail.
include(${CMAKE_SOURCE_DIR}/bench/bench.cmake)

agora_sh_test(NAME bench_cli SCRIPT ${CMAKE_CURRENT_SOURCE_DIR}/test_bench_cli.sh
  LABELS bench TIMEOUT 120)
