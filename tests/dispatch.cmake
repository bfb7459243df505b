# The delivery queue to the application (src/core/dispatch.c): its bound
# (agora_options.max_queued_events), with PeerToPeer nodes on ports 31471-31475.
agora_c_test(NAME test_dispatch_limit SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_dispatch_limit.c
  LABELS "core;dispatch" TIMEOUT 120)
# Its byte bound (agora_options.max_queued_bytes): a stalled receiver in a child process
# keeps its resident memory within the bound; PeerToPeer on ports 31491-31492.
agora_c_test(NAME test_dispatch_bytes SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_dispatch_bytes.c
  LABELS "core;dispatch" TIMEOUT 120)
