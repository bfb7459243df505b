# The shared helpers of src/util: backoff, random, host:port, big-endian integers.
agora_c_test(NAME test_util SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_util.c LABELS util TIMEOUT 30)
