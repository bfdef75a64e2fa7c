dengon_add_fuzzer(manifest LIBS dg_manifest)
