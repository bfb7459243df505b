# The coordinator core (src/core): receive path, membership, delivery, publish.
agora_c_test(NAME test_core SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_core.c LABELS core TIMEOUT 60)
# The bounded outbox across a real broker outage (redis-server).
agora_c_test(NAME test_outbox_overflow SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_outbox_overflow.c
  LABELS "core;redis" TIMEOUT 120)
# cmake --install: library, header, pkg-config file and command, usable by a program.
agora_sh_test(NAME test_install SCRIPT ${CMAKE_CURRENT_SOURCE_DIR}/test_install.sh LABELS install TIMEOUT 120)
# The outbox's byte bound ("outboxBytes"), on a Redis node whose server is not there.
agora_c_test(NAME test_outbox_bytes SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_outbox_bytes.c
  LABELS core TIMEOUT 60)
