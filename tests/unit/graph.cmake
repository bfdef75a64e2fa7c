dengon_add_unit_test(test_graph SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_graph.c LIBS dg_manifest)
