# Codec area: names, events, the Stalwart and native codecs, JSON form, encode/decode.
set(CODEC_UTIL ${CMAKE_CURRENT_SOURCE_DIR}/test_codec_util.c)
agora_c_test(NAME test_codec_vectors SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_codec_vectors.c
  ${CODEC_UTIL} LABELS codec unit TIMEOUT 60)
agora_c_test(NAME test_codec_roundtrip SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_codec_roundtrip.c
  ${CODEC_UTIL} LABELS codec unit TIMEOUT 120)
agora_c_test(NAME test_codec_errors SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_codec_errors.c
  LABELS codec unit TIMEOUT 60)
agora_c_test(NAME test_event_json SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_event_json.c
  LABELS codec unit TIMEOUT 60)
agora_sh_test(NAME test_codec_cli SCRIPT ${CMAKE_CURRENT_SOURCE_DIR}/test_codec_cli.sh
  LABELS codec cli TIMEOUT 120)
agora_c_test(NAME test_seal SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_seal.c
  LABELS codec unit TIMEOUT 120)
agora_c_test(NAME test_codec_batch SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_codec_batch.c
  LABELS codec unit TIMEOUT 60)
