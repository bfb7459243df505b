# Sealed messages on real brokers (src/core/sealing.c, docs/sealing.md).
if(HIREDIS_FOUND AND NATS_LIB AND NATS_INC)
  # Sealed messages end to end (issue #14): the reproducers on Redis and NATS, key
  # rotation under load on Redis (Redis 26250, NATS 24950).
  agora_c_test(NAME test_seal_bus SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_seal_bus.c
    ARGS redis LABELS "redis;nats;integration" TIMEOUT 240)
  target_include_directories(test_seal_bus PRIVATE ${NATS_INC})
  set_tests_properties(test_seal_bus PROPERTIES SKIP_RETURN_CODE 77)
  foreach(sc nats rotation)
    add_test(NAME test_seal_bus_${sc} COMMAND test_seal_bus ${sc})
    set_tests_properties(test_seal_bus_${sc} PROPERTIES TIMEOUT 240 SKIP_RETURN_CODE 77
      ENVIRONMENT "${AGORA_TEST_ENV}" LABELS "redis;nats;integration")
  endforeach()
  if(RDKAFKA_FOUND)
    # The reproducers on Kafka (issue #14; ports 29260-29261).
    add_test(NAME test_seal_bus_kafka COMMAND test_seal_bus kafka)
    set_tests_properties(test_seal_bus_kafka PROPERTIES TIMEOUT 300 SKIP_RETURN_CODE 77
      ENVIRONMENT "${AGORA_TEST_ENV}" LABELS "kafka;integration")
  endif()
endif()
