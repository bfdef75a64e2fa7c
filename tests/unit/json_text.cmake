dengon_add_unit_test(test_json_text SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_json_text.c LIBS dg_plugin_common)
