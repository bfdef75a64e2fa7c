dengon_add_unit_test(test_policy SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_policy.c LIBS dg_policy)
# Checks that conf/policy-examples/ stays valid.
target_compile_definitions(test_policy PRIVATE DG_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
