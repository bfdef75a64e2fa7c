#!/usr/bin/env bash
# Compiles header_use.c (or another TU) with the given compiler and flags, then
# checks the object's global definitions: exactly the unmangled entry symbol
# "dg_plugin_entry". That proves the header defines no variables or functions
# of its own and that DG_PLUGIN_DEFINE gives the entry C linkage (in C++ too).
#
#   usage: compile_header.sh COMPILER SOURCE OBJECT [FLAGS...]
set -euo pipefail
if [ $# -lt 3 ]; then
    echo "usage: $0 COMPILER SOURCE OBJECT [FLAGS...]" >&2
    exit 2
fi
cc=$1 src=$2 obj=$3
shift 3

echo "+ $cc $* -c $src -o $obj"
"$cc" "$@" -c "$src" -o "$obj"

defined=$(nm -g --defined-only "$obj" | awk '{ print $NF }' | sort | tr '\n' ' ')
if [ "$defined" != "dg_plugin_entry " ]; then
    echo "FAIL: $obj should define exactly one global symbol, dg_plugin_entry; it defines: $defined" >&2
    case "$defined" in
    *_Z*dg_plugin_entry*)
        echo "      (a C++-mangled entry: DG_PLUGIN_DEFINE must give the entry extern \"C\" linkage)" >&2
        ;;
    esac
    exit 1
fi
echo "ok: $obj defines only dg_plugin_entry"
