dengon_add_unit_test(test_manifest SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_manifest.c LIBS dg_manifest)
# The test loads conf/plugin-manifest.schema.json and writes temporary files.
target_compile_definitions(test_manifest PRIVATE DG_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
