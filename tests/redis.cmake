# Redis backends (Redis, RedisCluster, RedisSentinel) against real redis-server processes
# started by tests/support/redis_fixture.c on 127.0.0.1, ports 26000-26699 (cluster buses
# at +500). Skipped (77) when redis-server / redis-cli are not installed.
if(HIREDIS_FOUND)
  # Backend level: the ops table with a test ag_host (ports 26001-26029).
  agora_c_test(NAME test_redis_backend SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_redis_backend.c
    LABELS redis integration TIMEOUT 240)
  set_tests_properties(test_redis_backend PROPERTIES SKIP_RETURN_CODE 77)
  # Public API: 3 nodes all-to-all, one scenario per test (ports 26100-26199; the
  # fixture's lock file runs Redis tests one at a time). One program, several tests.
  agora_c_test(NAME test_redis_api SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_redis_api.c
    ARGS single LABELS redis integration TIMEOUT 240)
  set_tests_properties(test_redis_api PROPERTIES SKIP_RETURN_CODE 77)
  foreach(sc stalwart cluster cluster-stalwart cluster-down sentinel sentinel-stalwart restart
          failover auth dup-id)
    add_test(NAME test_redis_api_${sc} COMMAND test_redis_api ${sc})
    set_tests_properties(test_redis_api_${sc} PROPERTIES TIMEOUT 240 SKIP_RETURN_CODE 77
      ENVIRONMENT "${AGORA_TEST_ENV}" LABELS "redis;integration")
  endforeach()
endif()
if(HIREDIS_FOUND)
  # The observer scenario of test_observer_p2p over Redis (port 26230); the program is
  # built by tests/p2p.cmake.
  add_test(NAME test_observer_redis COMMAND test_observer_p2p redis)
  set_tests_properties(test_observer_redis PROPERTIES TIMEOUT 120 SKIP_RETURN_CODE 77
    ENVIRONMENT "${AGORA_TEST_ENV}" LABELS "redis;integration")
  # agora_close's bound with the server gone and an event queued (port 26210).
  agora_c_test(NAME test_close_bound SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_close_bound.c
    LABELS redis integration TIMEOUT 60)
  set_tests_properties(test_close_bound PROPERTIES SKIP_RETURN_CODE 77)
endif()
