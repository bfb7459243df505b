# Kafka backend (issue 5), against a real Apache Kafka broker run by
# scripts/kafka-broker.sh (fetched with mvn on first use, cached in ~/.m2 and
# ~/.cache/agora-kafka). One broker per test program; ports 29100-29299.
#   test_kafka_backend   the backend through its ops table (ports 29100-29108)
#   test_kafka_consumed  offsets committed only after the application consumed the
#                        events: a node SIGKILLed with events queued replays them
#                        (29160-29161)
#   test_kafka_cluster   agora nodes as processes through the public API (29200-29201)
# Skipped (exit 77) when librdkafka, java or mvn is missing.
if(RDKAFKA_FOUND)
  agora_c_test(NAME test_kafka_backend
    SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_kafka_backend.c LABELS kafka TIMEOUT 600)
  set_tests_properties(test_kafka_backend PROPERTIES SKIP_RETURN_CODE 77)
  agora_c_test(NAME test_kafka_consumed
    SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_kafka_consumed.c LABELS kafka TIMEOUT 600)
  set_tests_properties(test_kafka_consumed PROPERTIES SKIP_RETURN_CODE 77)
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/test_kafka_cluster.c)
    agora_c_test(NAME test_kafka_cluster
      SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_kafka_cluster.c LABELS kafka TIMEOUT 900)
    set_tests_properties(test_kafka_cluster PROPERTIES SKIP_RETURN_CODE 77)
  endif()
endif()

# Transport security of Nats and Kafka (issue #14): TLS with a throwaway CA made by
# openssl (tests/support/tls_pki.c), SASL PLAIN/SCRAM over TLS. NATS 24970, Kafka
# 29240-29243 and 29250-29253 (kafka-scram runs a Kafka 3.9 broker: librdkafka < 2.6.1
# cannot do SCRAM with Kafka 4). The config case needs no server.
if(RDKAFKA_FOUND AND NATS_LIB AND NATS_INC)
  agora_c_test(NAME test_transport_security
    SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_transport_security.c ARGS config
    LABELS "unit" TIMEOUT 60)
  foreach(sc nats kafka kafka-scram)
    if(sc STREQUAL "nats")
      set(lbl "nats;integration")
    else()
      set(lbl "kafka;integration")
    endif()
    add_test(NAME test_transport_security_${sc} COMMAND test_transport_security ${sc})
    set_tests_properties(test_transport_security_${sc} PROPERTIES TIMEOUT 600
      SKIP_RETURN_CODE 77 ENVIRONMENT "${AGORA_TEST_ENV}" LABELS "${lbl}")
  endforeach()
endif()
