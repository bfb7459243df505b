# The Zenoh shim: a Rust static library (src/backend/zenoh/shim) over the official
# zenoh crate, built by cargo and offered to CMake as the IMPORTED target
# agora_zenoh_shim (header agz.h). On by default when cargo and rustc >= 1.75 exist;
# -DAGORA_ZENOH=OFF leaves it out. Defines AGORA_HAVE_ZENOH when the target exists.
#
# cargo's target directory (AGORA_CARGO_TARGET_DIR, default the environment variable
# of that name, else ~/.cache/agora/cargo-target) lies outside the clone and the build
# tree on purpose: a release build of zenoh takes minutes on two cores, and every
# build directory and every fresh clone (CI) then reuses the compiled crates.

option(AGORA_ZENOH "Build the Zenoh shim (needs cargo and rustc >= 1.75)" ON)
set(AGORA_HAVE_ZENOH OFF)

if(AGORA_ZENOH AND AGORA_TSAN)
  # Rust's standard library and zenoh are not built with ThreadSanitizer: it sees their
  # atomics as plain accesses and reports their own synchronisation (every Arc drop) as
  # races, and the shim is linked statically, so no suppression can single it out.
  message(STATUS "Zenoh shim: off under ThreadSanitizer (Rust code is not instrumented)")
elseif(AGORA_ZENOH)
  set(_agz_hints "$ENV{CARGO_HOME}/bin" "$ENV{HOME}/.cargo/bin")
  find_program(AGORA_CARGO cargo HINTS ${_agz_hints})
  find_program(AGORA_RUSTC rustc HINTS ${_agz_hints})
  set(_agz_rustc_version "")
  if(AGORA_RUSTC)
    execute_process(COMMAND ${AGORA_RUSTC} --version OUTPUT_VARIABLE _agz_out
      RESULT_VARIABLE _agz_rc ERROR_QUIET)
    if(_agz_rc EQUAL 0 AND _agz_out MATCHES "rustc ([0-9]+\\.[0-9]+\\.[0-9]+)")
      set(_agz_rustc_version ${CMAKE_MATCH_1})
    endif()
  endif()
  if(NOT AGORA_CARGO OR NOT _agz_rustc_version OR _agz_rustc_version VERSION_LESS 1.75)
    if(NOT AGORA_CARGO)
      set(_agz_found "no cargo")
    elseif(NOT _agz_rustc_version)
      set(_agz_found "no rustc")
    else()
      set(_agz_found "rustc ${_agz_rustc_version}")
    endif()
    message(STATUS "Zenoh shim: off (needs cargo and rustc >= 1.75, found ${_agz_found})")
  else()
    set(AGORA_HAVE_ZENOH ON)
  endif()
endif()

if(AGORA_HAVE_ZENOH)
  if(DEFINED ENV{AGORA_CARGO_TARGET_DIR} AND NOT "$ENV{AGORA_CARGO_TARGET_DIR}" STREQUAL "")
    set(_agz_target_default "$ENV{AGORA_CARGO_TARGET_DIR}")
  elseif(DEFINED ENV{HOME} AND NOT "$ENV{HOME}" STREQUAL "")
    set(_agz_target_default "$ENV{HOME}/.cache/agora/cargo-target")
  else()
    set(_agz_target_default "${CMAKE_BINARY_DIR}/cargo-target")
  endif()
  set(AGORA_CARGO_TARGET_DIR "${_agz_target_default}" CACHE PATH
    "cargo's target directory for the Zenoh shim (shared across builds and clones)")

  set(_agz_dir ${CMAKE_SOURCE_DIR}/src/backend/zenoh/shim)
  file(GLOB _agz_sources CONFIGURE_DEPENDS ${_agz_dir}/src/*.rs)
  # Each build tree links its own copy, so that a cargo run from another tree that
  # rewrites the shared target directory never changes a library under our feet.
  set(_agz_lib ${CMAKE_BINARY_DIR}/zenoh-shim/libagora_zenoh_shim.a)
  # Other clones build a crate of the same name into the shared target directory, and
  # cargo copies an up-to-date crate's library to target/release only when it builds
  # it: so the shim alone (seconds; never the zenoh crates) is always built afresh
  # before its library is copied, or this tree could get another clone's.
  add_custom_command(OUTPUT ${_agz_lib}
    COMMAND ${CMAKE_COMMAND} -E env CARGO_TARGET_DIR=${AGORA_CARGO_TARGET_DIR}
            ${AGORA_CARGO} clean --release --quiet -p agora-zenoh-shim
            --manifest-path ${_agz_dir}/Cargo.toml
    COMMAND ${CMAKE_COMMAND} -E env CARGO_TARGET_DIR=${AGORA_CARGO_TARGET_DIR}
            RUSTC=${AGORA_RUSTC}
            ${AGORA_CARGO} build --release --locked --manifest-path ${_agz_dir}/Cargo.toml
    COMMAND ${CMAKE_COMMAND} -E copy
            ${AGORA_CARGO_TARGET_DIR}/release/libagora_zenoh_shim.a ${_agz_lib}
    DEPENDS ${_agz_dir}/Cargo.toml ${_agz_dir}/Cargo.lock ${_agz_sources}
    COMMENT "Building the Zenoh shim with cargo (the first build takes minutes)"
    USES_TERMINAL VERBATIM)
  add_custom_target(agora_zenoh_shim_build DEPENDS ${_agz_lib})

  add_library(agora_zenoh_shim STATIC IMPORTED GLOBAL)
  set_target_properties(agora_zenoh_shim PROPERTIES
    IMPORTED_LOCATION ${_agz_lib}
    INTERFACE_INCLUDE_DIRECTORIES ${_agz_dir}
    # What Rust's standard library needs from the system (rustc --print native-static-libs).
    INTERFACE_LINK_LIBRARIES "Threads::Threads;${CMAKE_DL_LIBS};m;rt;gcc_s;util"
    # The archive holds all of zenoh; the linker keeps what is reached (a program's
    # text: 23 MB without, 15 MB with).
    INTERFACE_LINK_OPTIONS "-Wl,--gc-sections")
  add_dependencies(agora_zenoh_shim agora_zenoh_shim_build)
  message(STATUS "Zenoh shim: on (rustc ${_agz_rustc_version}, cargo target ${AGORA_CARGO_TARGET_DIR})")
endif()
