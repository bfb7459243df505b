# The operator's web page (src/admin/web) in a real headless chromium, driven over the
# Chrome DevTools Protocol (tests/support/cdp.py, Debian's python3-websocket), against
# a live 3-node PeerToPeer cluster whose node 1 runs `agora serve --http`. Needs
# chromium and python3-websocket (scripts/install-deps.sh). Leaves the page's
# screenshot in this build directory: tests/web_page.png.
#   web_page   members alive, then failed after a SIGKILL; a published event in the
#              tail; the configuration panel and its check; no console errors
# Debian's python3 (its python3-websocket) even when another python3 comes first on PATH.
find_program(AGORA_SYSTEM_PYTHON python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(NOT AGORA_SYSTEM_PYTHON)
  find_program(AGORA_SYSTEM_PYTHON python3)
endif()
if(TARGET agora_admin AND AGORA_SYSTEM_PYTHON)
  add_test(NAME web_page COMMAND ${AGORA_SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/test_web_page.py
    ${CMAKE_BINARY_DIR}/agora ${CMAKE_CURRENT_BINARY_DIR})
  set_tests_properties(web_page PROPERTIES TIMEOUT 180 ENVIRONMENT "${AGORA_TEST_ENV}"
    LABELS "web;p2p;cli")
endif()
