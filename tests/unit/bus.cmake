# Event bus unit tests (core/src/bus).
dengon_add_unit_test(test_bus SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_bus.c LIBS dg_bus)
