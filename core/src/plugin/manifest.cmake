# dg_manifest: plugin.json parser/validator, semver + ranges, dependency graph.
# Included from core/src/plugin/CMakeLists.txt. Depends on nothing of the core,
# so the unit tests and the fuzzer link it alone.
add_library(dg_manifest STATIC
  ${CMAKE_CURRENT_LIST_DIR}/manifest.c
  ${CMAKE_CURRENT_LIST_DIR}/semver.c
  ${CMAKE_CURRENT_LIST_DIR}/graph.c)
target_include_directories(dg_manifest PUBLIC ${DG_CORE_INCLUDE})
target_link_libraries(dg_manifest PUBLIC dengon_sdk PkgConfig::JANSSON)
