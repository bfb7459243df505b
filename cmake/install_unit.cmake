# Runs inside `cmake --install` (see cmake/install.cmake): writes agora@.service for
# the prefix in force and installs it. CMAKE_INSTALL_PREFIX is the --prefix given, if
# any; file(INSTALL) adds DESTDIR like every other install rule.
foreach(_v AGORA_UNIT_BINDIR AGORA_UNIT_DIR)
  if(IS_ABSOLUTE "${${_v}}")
    set(${_v}_FULL "${${_v}}")
  else()
    set(${_v}_FULL "${CMAKE_INSTALL_PREFIX}/${${_v}}")
  endif()
endforeach()
set(AGORA_BINDIR "${AGORA_UNIT_BINDIR_FULL}")
set(AGORA_CONFIG_DIR "${AGORA_UNIT_CONFIG_DIR}")
configure_file("${AGORA_UNIT_TEMPLATE}" "${AGORA_UNIT_OUT}" @ONLY)
file(INSTALL DESTINATION "${AGORA_UNIT_DIR_FULL}" TYPE FILE FILES "${AGORA_UNIT_OUT}")
