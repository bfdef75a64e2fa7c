# History full-text search over 1,000,000 messages, through the history
# plugin's own store and query code, with an indexed lookup as the baseline.
if(TARGET dg_history_store)
  add_executable(bench_search ${CMAKE_CURRENT_SOURCE_DIR}/bench_search.c)
  target_link_libraries(bench_search PRIVATE dg_history_store)
  set_target_properties(bench_search PROPERTIES RUNTIME_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/tests")
  add_test(NAME bench.search COMMAND bench_search)
  set_tests_properties(bench.search PROPERTIES LABELS bench TIMEOUT 600)
endif()
