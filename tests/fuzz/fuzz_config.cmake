dengon_add_fuzzer(config LIBS dg_config)
