find_program(PYTHON3 python3 REQUIRED)
set(bench_files_env "DENGON_BUILD_DIR=${CMAKE_BINARY_DIR}")
if(DENGON_SANITIZE)
  # Like the integration tests: plugins stay mapped at exit (--no-dlclose), so
  # LeakSanitizer can name what a plugin leaves behind.
  list(APPEND bench_files_env "DENGON_SANITIZED=1")
endif()
add_test(NAME bench.files COMMAND ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/bench_files.py)
set_tests_properties(bench.files PROPERTIES LABELS bench TIMEOUT 600
                     ENVIRONMENT "${bench_files_env}")
