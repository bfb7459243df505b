# The programs in examples/, each run against a real 3-node PeerToPeer cluster on
# loopback (free ports picked in 20000-40000).
agora_sh_test(NAME examples SCRIPT ${CMAKE_CURRENT_SOURCE_DIR}/test_examples.sh
  LABELS examples p2p TIMEOUT 180)
