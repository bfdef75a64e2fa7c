# Debian's python3: the licence and key helpers need python3-cryptography.
find_program(DG_BENCH_FILECRYPT_PYTHON3 python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(NOT DG_BENCH_FILECRYPT_PYTHON3)
  set(DG_BENCH_FILECRYPT_PYTHON3 python3)
endif()
set(bench_filecrypt_env "DENGON_BUILD_DIR=${CMAKE_BINARY_DIR}")
if(DENGON_SANITIZE)
  list(APPEND bench_filecrypt_env "DENGON_SANITIZED=1")
endif()
add_test(NAME bench.filecrypt
  COMMAND ${DG_BENCH_FILECRYPT_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/bench_filecrypt.py)
set_tests_properties(bench.filecrypt PROPERTIES LABELS bench TIMEOUT 600
                     ENVIRONMENT "${bench_filecrypt_env}")
