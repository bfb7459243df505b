# Packaging (issue 16): what `make install` puts in place, checked without root.
#   test_install     (registered in config.cmake) make install PREFIX=DIR: library,
#                    header, agora.pc, CMake package, man pages, completion, systemd
#                    unit, docs; an example built with pkg-config and find_package
#   test_man         man/: every page renders without warnings and documents every
#                    long option of its command's --help
#   test_completion  completions/agora.bash offers the right words
set_tests_properties(test_install PROPERTIES TIMEOUT 300)
agora_sh_test(NAME test_man SCRIPT ${CMAKE_CURRENT_SOURCE_DIR}/test_man.sh
  LABELS install unit TIMEOUT 120)
agora_sh_test(NAME test_completion SCRIPT ${CMAKE_CURRENT_SOURCE_DIR}/test_completion.sh
  LABELS install unit TIMEOUT 60)
