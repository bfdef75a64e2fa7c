dengon_add_fuzzer(licence LIBS dg_licence)
