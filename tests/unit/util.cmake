dengon_add_unit_test(test_util SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_util.c LIBS dg_util)
