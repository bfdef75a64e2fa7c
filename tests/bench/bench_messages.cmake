find_program(PYTHON3 python3 REQUIRED)
add_test(NAME bench.messages COMMAND ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/bench_messages.py)
set_tests_properties(bench.messages PROPERTIES LABELS bench TIMEOUT 600
                     ENVIRONMENT "DENGON_BUILD_DIR=${CMAKE_BINARY_DIR}")
