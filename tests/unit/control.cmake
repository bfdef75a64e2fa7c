dengon_add_unit_test(test_control SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_control.c
                     LIBS dg_control Threads::Threads)
