dengon_add_fuzzer(policy LIBS dg_policy)
