# The NATS backend (src/backend/nats) against real nats-server processes started by
# tests/support/nats_fixture.c on 127.0.0.1, ports 24000-24999 (each case its own).
if(NATS_LIB AND NATS_INC)
  # One program, one ctest entry per case (test_nats_backend_<case>).
  agora_c_test(NAME test_nats_backend SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_nats_backend.c
    ARGS delivery LABELS nats TIMEOUT 180)
  set_tests_properties(test_nats_backend PROPERTIES SKIP_RETURN_CODE 77)
  foreach(c echo restart down cluster auth token tls maxrec evicted tail)
    add_test(NAME test_nats_backend_${c} COMMAND test_nats_backend ${c})
    set_tests_properties(test_nats_backend_${c} PROPERTIES TIMEOUT 180 SKIP_RETURN_CODE 77
      ENVIRONMENT "${AGORA_TEST_ENV}" LABELS nats)
  endforeach()
endif()
if(NATS_LIB AND NATS_INC)
  # Whole nodes through the public API (agora_open with a "Nats" coordinator).
  agora_c_test(NAME test_nats_agora SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_nats_agora.c
    ARGS alltoall LABELS nats TIMEOUT 240)
  set_tests_properties(test_nats_agora PROPERTIES SKIP_RETURN_CODE 77)
  foreach(c restart stalwart badauth down cluster restart-sealed cluster-sealed)
    add_test(NAME test_nats_agora_${c} COMMAND test_nats_agora ${c})
    set_tests_properties(test_nats_agora_${c} PROPERTIES TIMEOUT 240 SKIP_RETURN_CODE 77
      ENVIRONMENT "${AGORA_TEST_ENV}" LABELS nats)
  endforeach()
endif()
if(NATS_LIB AND NATS_INC)
  # The *-sealed cases reuse their plain twin's fixed ports: never at the same time.
  set_tests_properties(test_nats_agora_restart test_nats_agora_restart-sealed PROPERTIES
    RESOURCE_LOCK nats_agora_restart_ports)
  set_tests_properties(test_nats_agora_cluster test_nats_agora_cluster-sealed PROPERTIES
    RESOURCE_LOCK nats_agora_cluster_ports)
endif()

if(NATS_LIB AND NATS_INC)
  # The observer scenario of test_observer_p2p over NATS (port 24230; the program is
  # built by tests/p2p.cmake).
  add_test(NAME test_observer_nats COMMAND test_observer_p2p nats)
  set_tests_properties(test_observer_nats PROPERTIES TIMEOUT 120 SKIP_RETURN_CODE 77
    ENVIRONMENT "${AGORA_TEST_ENV}" LABELS nats)
endif()
