# The public header as a contract: libagora.so exports agora_* only, and agora.h
# compiles cleanly as strict C (-Wwrite-strings -pedantic) and as C++.
agora_sh_test(NAME test_exports SCRIPT ${CMAKE_CURRENT_SOURCE_DIR}/test_exports.sh LABELS api unit)

add_executable(test_header_strict ${CMAKE_CURRENT_SOURCE_DIR}/api/header_strict.c)
target_compile_options(test_header_strict PRIVATE -Wwrite-strings -pedantic)
target_link_libraries(test_header_strict PRIVATE agora_static)
add_test(NAME test_header_strict COMMAND test_header_strict)
set_tests_properties(test_header_strict PROPERTIES LABELS "api;unit" ENVIRONMENT "${AGORA_TEST_ENV}")

include(CheckLanguage)
check_language(CXX)
if(CMAKE_CXX_COMPILER)
  enable_language(CXX)
  add_executable(test_header_cxx ${CMAKE_CURRENT_SOURCE_DIR}/api/header_cxx.cpp)
  set_target_properties(test_header_cxx PROPERTIES CXX_STANDARD 11 CXX_STANDARD_REQUIRED ON
    CXX_EXTENSIONS OFF)
  target_compile_options(test_header_cxx PRIVATE -pedantic)
  target_link_libraries(test_header_cxx PRIVATE agora_static)
  add_test(NAME test_header_cxx COMMAND test_header_cxx)
  set_tests_properties(test_header_cxx PROPERTIES LABELS "api;unit" ENVIRONMENT "${AGORA_TEST_ENV}")
else()
  message(WARNING "no C++ compiler: test_header_cxx (agora.h as C++) is not built")
endif()
