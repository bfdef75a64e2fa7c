dengon_add_unit_test(test_identity SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_identity.c LIBS dg_identity)
