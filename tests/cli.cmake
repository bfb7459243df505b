# The agora command's node subcommands (serve, watch, publish, members) and `make demo`.
#   cli_args     help, argument/config errors (exit 2), timeouts (3), signals, on the
#                Disabled coordinator (no network)
#   cli_cluster  a 3-node PeerToPeer cluster on loopback (free ports in 20000-40000)
#   demo         scripts/demo.sh itself (free ports chosen at run time)
agora_sh_test(NAME cli_args SCRIPT ${CMAKE_CURRENT_SOURCE_DIR}/test_cli_args.sh
  LABELS cli TIMEOUT 120)
agora_sh_test(NAME cli_cluster SCRIPT ${CMAKE_CURRENT_SOURCE_DIR}/test_cli_cluster.sh
  LABELS cli p2p TIMEOUT 180)
agora_sh_test(NAME demo SCRIPT ${CMAKE_SOURCE_DIR}/scripts/demo.sh
  ARGS ${CMAKE_BINARY_DIR}/agora LABELS demo TIMEOUT 180)
#   cli_redis    publish/watch over a real redis-server (agora and stalwart codecs);
#                skipped (77) without redis-server
agora_sh_test(NAME cli_redis SCRIPT ${CMAKE_CURRENT_SOURCE_DIR}/test_cli_redis.sh
  LABELS cli redis TIMEOUT 120)
set_tests_properties(cli_redis PROPERTIES SKIP_RETURN_CODE 77)
#   cli_secrets  distinctive secrets planted in every secret-bearing field of every
#                backend never appear in any output (config check, errors, -v -v logs,
#                status JSON, members); the brokers are closed ports, not servers
agora_sh_test(NAME cli_secrets SCRIPT ${CMAKE_CURRENT_SOURCE_DIR}/test_cli_secrets.sh
  LABELS cli TIMEOUT 180)
