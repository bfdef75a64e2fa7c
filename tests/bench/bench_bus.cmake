# Event bus throughput and latency, with baselines measured in the same run.
add_executable(bench_bus ${CMAKE_CURRENT_SOURCE_DIR}/bench_bus.c)
target_link_libraries(bench_bus PRIVATE dg_bus)
set_target_properties(bench_bus PROPERTIES RUNTIME_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/tests")
add_test(NAME bench.bus COMMAND bench_bus)
set_tests_properties(bench.bus PROPERTIES LABELS bench TIMEOUT 120)
