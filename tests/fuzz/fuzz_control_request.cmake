# The control socket's request-line framing and parser (core/src/control).
dengon_add_fuzzer(control_request LIBS dg_control)
