# What `make install` / `cmake --install BUILD [--prefix DIR]` puts under the prefix.
# Every path is relative to the prefix (GNUInstallDirs), so --prefix at install time
# moves all of it; files that name an absolute path (the systemd unit) are written at
# install time from the prefix then in force.
#
#   bin/agora                                   the command
#   lib*/libagora.so*, libagora.a               the library (+ libagora_zenoh_shim.a)
#   include/agora.h                             its header
#   lib*/pkgconfig/agora.pc                     pkg-config
#   lib*/cmake/agora/                           find_package(agora): agora::agora,
#                                               agora::agora_static
#   share/man/man{1,3,5}/                       agora(1), agora-<cmd>(1), libagora(3),
#                                               agora.json(5)
#   share/bash-completion/completions/agora     bash completion
#   lib/systemd/system/agora@.service           one node per /etc/agora/<name>.json
#   share/doc/agora/                            README.md, docs/, examples/

include(CMakePackageConfigHelpers)

set(AGORA_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/agora" CACHE STRING
  "Where agoraConfig.cmake is installed (relative to the prefix)")
set(AGORA_BASH_COMPLETION_DIR "${CMAKE_INSTALL_DATADIR}/bash-completion/completions" CACHE STRING
  "Where the bash completion is installed (relative to the prefix, or absolute)")
option(AGORA_INSTALL_SYSTEMD "Install the systemd unit agora@.service" ON)
# Absolute for a system path outside the prefix, e.g. the output of
# `pkg-config --variable=systemdsystemunitdir systemd`.
set(AGORA_SYSTEMD_UNIT_DIR "lib/systemd/system" CACHE STRING
  "Where agora@.service is installed (relative to the prefix, or absolute)")
set(AGORA_SYSTEMD_CONFIG_DIR "/etc/agora" CACHE PATH
  "The folder of the node files agora@NAME.service reads (NAME.json)")

# --- the library, its header and the command ---------------------------------------
set_target_properties(agora_shared PROPERTIES EXPORT_NAME agora)
set_target_properties(agora_static PROPERTIES EXPORT_NAME agora_static)
install(TARGETS agora_shared agora_static EXPORT agoraTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS agora RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES include/agora.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
if(AGORA_HAVE_ZENOH)
  install(FILES ${CMAKE_BINARY_DIR}/zenoh-shim/libagora_zenoh_shim.a
    DESTINATION ${CMAKE_INSTALL_LIBDIR})
endif()

# --- pkg-config ---------------------------------------------------------------------
# agora.pc finds its prefix relative to its own folder, so that
# `cmake --install build --prefix DIR` gives a working file wherever DIR is.
file(RELATIVE_PATH AGORA_PC_PREFIX_REL "${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig" "${CMAKE_INSTALL_PREFIX}")
string(REGEX REPLACE "/$" "" AGORA_PC_PREFIX_REL "${AGORA_PC_PREFIX_REL}")
set(AGORA_PC_LIBS_PRIVATE "-lpthread")
if(NATS_LIB AND NATS_INC AND AGORA_WITH_NATS)
  string(APPEND AGORA_PC_LIBS_PRIVATE " -lnats")
endif()
if(AGORA_HAVE_ZENOH)
  # What Rust's standard library needs from the system (cmake/zenoh.cmake).
  string(APPEND AGORA_PC_LIBS_PRIVATE " -lagora_zenoh_shim -ldl -lm -lrt -lgcc_s -lutil")
endif()
configure_file(agora.pc.in agora.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/agora.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# --- the CMake package: find_package(agora) -----------------------------------------
# agoraConfig.cmake finds what the static library's users must link (the same
# dependencies as agora.pc's Requires.private and Libs.private), then includes the
# exported targets.
set(AGORA_CONFIG_HIREDIS OFF)
set(AGORA_CONFIG_RDKAFKA OFF)
if(HIREDIS_FOUND)
  set(AGORA_CONFIG_HIREDIS ON)
endif()
if(RDKAFKA_FOUND)
  set(AGORA_CONFIG_RDKAFKA ON)
endif()
set(AGORA_CONFIG_ZENOH ${AGORA_HAVE_ZENOH})
install(EXPORT agoraTargets NAMESPACE agora:: DESTINATION ${AGORA_CMAKE_DIR}
  FILE agoraTargets.cmake)
configure_package_config_file(cmake/agoraConfig.cmake.in
  ${CMAKE_BINARY_DIR}/agoraConfig.cmake
  INSTALL_DESTINATION ${AGORA_CMAKE_DIR}
  PATH_VARS CMAKE_INSTALL_LIBDIR)
# 0.x: the soname is libagora.so.0, and a 0.y library still runs 0.x programs
# ("Growing structs" in agora.h).
write_basic_package_version_file(${CMAKE_BINARY_DIR}/agoraConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_BINARY_DIR}/agoraConfig.cmake ${CMAKE_BINARY_DIR}/agoraConfigVersion.cmake
  DESTINATION ${AGORA_CMAKE_DIR})

# --- man pages, completion ----------------------------------------------------------
foreach(section 1 3 5)
  file(GLOB _agora_man CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/man/*.${section})
  install(FILES ${_agora_man} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
endforeach()
install(FILES completions/agora.bash DESTINATION ${AGORA_BASH_COMPLETION_DIR} RENAME agora)

# --- systemd ------------------------------------------------------------------------
# The unit names the installed command by its absolute path: written when installing,
# from the prefix in force then (cmake --install --prefix DIR), not the configured one.
if(AGORA_INSTALL_SYSTEMD)
  install(CODE "
    set(AGORA_UNIT_TEMPLATE \"${CMAKE_SOURCE_DIR}/systemd/agora@.service.in\")
    set(AGORA_UNIT_OUT \"${CMAKE_BINARY_DIR}/agora@.service\")
    set(AGORA_UNIT_BINDIR \"${CMAKE_INSTALL_BINDIR}\")
    set(AGORA_UNIT_DIR \"${AGORA_SYSTEMD_UNIT_DIR}\")
    set(AGORA_UNIT_CONFIG_DIR \"${AGORA_SYSTEMD_CONFIG_DIR}\")
    include(\"${CMAKE_SOURCE_DIR}/cmake/install_unit.cmake\")")
endif()

# --- docs and examples --------------------------------------------------------------
# README.md links docs/ and examples/ by relative paths: they keep working installed.
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs FILES_MATCHING PATTERN "*.md")
install(DIRECTORY examples/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples
  PATTERN CMakeLists.txt EXCLUDE)
