dengon_add_unit_test(test_licence SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_licence.c LIBS dg_licence)
# Compares the compiled-in vendor key with conf/keys/vendor.pub.
target_compile_definitions(test_licence PRIVATE DG_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
