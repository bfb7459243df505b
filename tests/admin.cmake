# The operator's view: metrics through the library, the admin HTTP endpoint
# (agora serve --http) and the commands that read it (members/status/top --from).
#   test_metrics   agora_event_counts, agora_metrics_text, members' counts and rates,
#                  agora_config_describe: two PeerToPeer nodes in one process
#   admin_cluster  a 3-node PeerToPeer cluster, one node serving --http with a token:
#                  promtool check metrics, /api/* shapes and values, config check
#                  errors, bad requests, the token, a live-event client that never
#                  reads, members/status/top --from, an unreachable node
agora_c_test(NAME test_metrics SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_metrics.c
  LABELS unit p2p admin TIMEOUT 60)
if(TARGET agora_admin AND CURL_FOUND)
  agora_sh_test(NAME admin_cluster SCRIPT ${CMAKE_CURRENT_SOURCE_DIR}/test_admin_cluster.sh
    ARGS ${CMAKE_BINARY_DIR}/agora LABELS cli p2p admin TIMEOUT 240)
endif()
