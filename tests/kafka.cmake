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
