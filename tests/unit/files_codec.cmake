# cmocka unit tests of the file-transfer codec (plugins/files/codec).
foreach(t attach request dirstream safename)
  dengon_add_unit_test(test_files_${t} SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_files_${t}.c
                       LIBS dg_files_codec)
endforeach()
