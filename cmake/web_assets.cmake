# The web page served at GET / by the admin endpoint (src/admin/web/): its files are
# turned into a C source at build time (cmake/embed_assets.cmake) and compiled into
# agora_admin. Sets AGORA_WEB_ASSETS_SOURCE, the generated file, for that target's
# sources; editing a page file regenerates it.
set(AGORA_WEB_DIR ${CMAKE_SOURCE_DIR}/src/admin/web)
set(AGORA_WEB_FILES index.html app.css app.js)
set(AGORA_WEB_ASSETS_SOURCE ${CMAKE_BINARY_DIR}/generated/web_assets.c)
list(TRANSFORM AGORA_WEB_FILES PREPEND ${AGORA_WEB_DIR}/ OUTPUT_VARIABLE _web_paths)
string(JOIN ":" _web_names ${AGORA_WEB_FILES})
add_custom_command(OUTPUT ${AGORA_WEB_ASSETS_SOURCE}
  COMMAND ${CMAKE_COMMAND} -DDIR=${AGORA_WEB_DIR} -DNAMES=${_web_names}
    -DOUT=${AGORA_WEB_ASSETS_SOURCE} -P ${CMAKE_SOURCE_DIR}/cmake/embed_assets.cmake
  DEPENDS ${_web_paths} ${CMAKE_SOURCE_DIR}/cmake/embed_assets.cmake
  COMMENT "Embedding the web page (src/admin/web)"
  VERBATIM)
