# IPMsg crypto library (plugins/crypto/codec): cmocka tests of every function,
# and the independent interop test (Python + python3-cryptography) driving
# the library through ipmc_tool.
foreach(t codec body keys)
  dengon_add_unit_test(test_crypto_${t} SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_crypto_${t}.c
                       LIBS dg_ipmsg_crypto)
endforeach()

add_executable(ipmc_tool ${CMAKE_CURRENT_SOURCE_DIR}/ipmc_tool.c)
target_link_libraries(ipmc_tool PRIVATE dg_ipmsg_crypto)
set_target_properties(ipmc_tool PROPERTIES RUNTIME_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/tests")
# Debian's own interpreter: python3-cryptography (packaging/install-deps.sh)
# installs for it, not for another python3 that may come first on PATH.
find_program(DG_DEBIAN_PYTHON3 python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(NOT DG_DEBIAN_PYTHON3)
  set(DG_DEBIAN_PYTHON3 python3)
endif()
add_test(NAME unit.crypto_interop
         COMMAND ${DG_DEBIAN_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/crypto_interop.py)
set_tests_properties(unit.crypto_interop PROPERTIES
  ENVIRONMENT "IPMC_TOOL=$<TARGET_FILE:ipmc_tool>;PYTHONDONTWRITEBYTECODE=1"
  LABELS unit TIMEOUT 300)
