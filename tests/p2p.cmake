# PeerToPeer backend (src/backend/p2p): the transport alone (test_p2p, its own
# ag_host), then whole clusters through the public API and the agora command.
agora_c_test(NAME test_p2p SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_p2p.c LABELS p2p TIMEOUT 240
  ARGS all)
# Each scenario also on its own, so that a failure names it.
foreach(s ipv6 slow join_restart mesh resend resend_gap wrong_secret plaintext garbage dup_id log_flood stalled stalled_ctrl)
  add_test(NAME test_p2p_${s} COMMAND test_p2p ${s})
  set_tests_properties(test_p2p_${s} PROPERTIES TIMEOUT 120 ENVIRONMENT "${AGORA_TEST_ENV}"
    LABELS "p2p" RUN_SERIAL TRUE)
endforeach()
set_tests_properties(test_p2p PROPERTIES RUN_SERIAL TRUE)

# Whole clusters of forked node processes through the public API.
agora_c_test(NAME test_p2p_cluster SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_p2p_cluster.c
  LABELS p2p TIMEOUT 600 ARGS all)
set_tests_properties(test_p2p_cluster PROPERTIES RUN_SERIAL TRUE)
foreach(s all_to_all kill drop sixteen)
  add_test(NAME test_p2p_cluster_${s} COMMAND test_p2p_cluster ${s})
  set_tests_properties(test_p2p_cluster_${s} PROPERTIES TIMEOUT 300 ENVIRONMENT "${AGORA_TEST_ENV}"
    LABELS "p2p" RUN_SERIAL TRUE)
endforeach()

# The refusals as an operator sees them, through the agora command.
agora_c_test(NAME test_p2p_cli SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_p2p_cli.c
  LABELS p2p TIMEOUT 180 ARGS all)
set_tests_properties(test_p2p_cli PROPERTIES RUN_SERIAL TRUE)

# A peer that stops reading does not hold a trickle of events to the others.
agora_c_test(NAME test_p2p_stall SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_p2p_stall.c
  LABELS p2p TIMEOUT 60)
set_tests_properties(test_p2p_stall PROPERTIES RUN_SERIAL TRUE)

# Observers (agora_options.observer) and failed / departed members known from gossip
# (memberRetention): nodes in this process and `agora serve` children.
agora_c_test(NAME test_observer_p2p SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_observer.c
  LABELS p2p TIMEOUT 120 ARGS p2p)
set_tests_properties(test_observer_p2p PROPERTIES RUN_SERIAL TRUE)
