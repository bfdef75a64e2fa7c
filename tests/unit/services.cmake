# Service registry unit tests (core/src/plugin/services.c, compiled in so the
# test needs nothing else of the core).
dengon_add_unit_test(test_services
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_services.c ${CMAKE_SOURCE_DIR}/core/src/plugin/services.c
  LIBS dengon_sdk PkgConfig::JANSSON)
target_include_directories(test_services PRIVATE ${CMAKE_SOURCE_DIR}/core/src)
