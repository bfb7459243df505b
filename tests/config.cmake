# Configuration area: JSON reader/writer, LEB128, config parsing, `agora config`.
agora_c_test(NAME test_json SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_json.c LABELS unit TIMEOUT 60)
agora_c_test(NAME test_config SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_config.c LABELS unit TIMEOUT 60)
agora_c_test(NAME test_config_edit SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_config_edit.c LABELS unit TIMEOUT 60)
agora_sh_test(NAME test_config_cli SCRIPT ${CMAKE_CURRENT_SOURCE_DIR}/test_config_cli.sh LABELS cli TIMEOUT 60)
