# 10,000 simulated IP Messenger hosts announce to one dengond (ipmsg + users).
find_program(PYTHON3 python3 REQUIRED)
add_test(NAME bench.presence COMMAND ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/bench_presence.py)
set_tests_properties(bench.presence PROPERTIES LABELS bench TIMEOUT 300
                     ENVIRONMENT "DENGON_BUILD_DIR=${CMAKE_BINARY_DIR}")
