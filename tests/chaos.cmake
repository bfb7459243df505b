# The fault-injection suite (tests/chaos/chaos.sh, docs/reliability.md): agora nodes in
# Linux network namespaces under partitions, packet loss and frozen or killed servers.
#   chaos_quick  the short subset: a 5-node PeerToPeer partition and heal, and Redis
#                under packet loss; needs root, veth and nftables, and is skipped (77)
#                with the reason otherwise. `make chaos` runs the whole suite.
agora_sh_test(NAME chaos_quick SCRIPT ${CMAKE_CURRENT_SOURCE_DIR}/chaos/chaos.sh
  ARGS --quick LABELS chaos p2p redis TIMEOUT 240)
set_tests_properties(chaos_quick PROPERTIES SKIP_RETURN_CODE 77)
