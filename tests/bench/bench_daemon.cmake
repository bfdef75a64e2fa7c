find_program(PYTHON3 python3 REQUIRED)
add_test(NAME bench.daemon COMMAND ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/bench_daemon.py)
set_tests_properties(bench.daemon PROPERTIES LABELS bench TIMEOUT 300
                     ENVIRONMENT "DENGON_BUILD_DIR=${CMAKE_BINARY_DIR}")
