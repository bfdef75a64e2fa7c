#!/usr/bin/env bash
# sdk.install_example: what a third-party plugin author does, end to end.
#
#   1. cmake --install the SDK (component "sdk") into a temporary prefix;
#   2. check the installed header and dengon-sdk.pc;
#   3. copy sdk/examples/hello out of the tree and build it against the
#      installed SDK only, with its Makefile and with its CMakeLists.txt;
#      check it exports only dg_plugin_entry and is linked -z now;
#   4. `make install` it into <tmp>/plugins/hello/ (and a DESTDIR stage);
#   5. run dengond with --plugin-dir <tmp>/plugins and use the plugin through
#      the dengon CLI: hello.greet, a live config change, `plugins --json`;
#   6. stop the daemon by its PID (SIGTERM) and check it stopped cleanly.
#
#   usage: install_example.sh BUILD_DIR SOURCE_DIR
#   env:   DENGOND, DENGON  override the binaries (default BUILD_DIR/bin/...)
#          KEEP_TMP=1       keep the temporary folder for inspection
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 BUILD_DIR SOURCE_DIR" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/dg-sdk.XXXXXX")
daemon_pid=""

stop_daemon() {
    # Ends only the daemon this script started, by its PID.
    local pid=$daemon_pid
    daemon_pid=""
    [ -n "$pid" ] || return 0
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "dengond (pid $pid) ignored SIGTERM for 10 s: killing it" >&2
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$?
    stop_daemon
    if [ "$rc" -ne 0 ]; then
        for log in "$tmp/dengond.out" "$tmp/home/logs/dengond.log"; do
            if [ -s "$log" ]; then
                echo "---- last lines of $log" >&2
                tail -n 40 "$log" >&2
            fi
        done
    fi
    if [ "${KEEP_TMP:-0}" = 1 ]; then
        echo "kept $tmp"
    else
        rm -rf "$tmp"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { echo "== $*"; }
fail() {
    echo "FAIL: $*" >&2
    exit 1
}

for tool in cmake make pkg-config nm readelf python3 cc; do
    command -v "$tool" >/dev/null || fail "this test needs '$tool' on PATH"
done

# Prints the value of KEY from the first JSON object (searched depth first)
# that has KEY and, when given, MATCHKEY == MATCHVALUE. Strings print raw.
jfind() {
    python3 - "$@" <<'PY'
import json, sys
text, key = sys.argv[1], sys.argv[2]
match = sys.argv[3].split("=", 1) if len(sys.argv) > 3 else None
try:
    doc = json.loads(text)
except ValueError as e:
    sys.exit("not JSON (%s): %r" % (e, text[:200]))
def walk(v):
    if isinstance(v, dict):
        if key in v and (match is None or v.get(match[0]) == match[1]):
            return v
        v = list(v.values())
    if isinstance(v, list):
        for x in v:
            r = walk(x)
            if r is not None:
                return r
    return None
found = walk(doc)
if found is None:
    sys.exit("no object with %r%s in %s" % (key, " and %s=%s" % tuple(match) if match else "", text[:300]))
val = found[key]
print(val if isinstance(val, str) else json.dumps(val))
PY
}

# ---------------------------------------------------------------- 1. install
prefix="$tmp/prefix"
step "cmake --install $build --prefix $prefix --component sdk"
cmake --install "$build" --prefix "$prefix" --component sdk

# ---------------------------------------------------------------- 2. the SDK files
header="$prefix/include/dengon/plugin.h"
[ -f "$header" ] || fail "plugin.h not installed at $header"
cmp -s "$header" "$src/sdk/include/dengon/plugin.h" || fail "installed plugin.h differs from the source"
pc=$(find "$prefix" -name dengon-sdk.pc -path '*/pkgconfig/*' -print -quit)
[ -n "$pc" ] || fail "dengon-sdk.pc not installed under $prefix"
export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "$pc")
step "pkg-config with PKG_CONFIG_PATH=$PKG_CONFIG_PATH"
pkg-config --validate dengon-sdk || fail "pkg-config rejects $pc"
cflags=$(pkg-config --cflags dengon-sdk)
libs=$(pkg-config --libs dengon-sdk)
plugindir=$(pkg-config --variable=plugindir dengon-sdk)
echo "cflags: $cflags"
echo "libs:   $libs"
echo "plugindir: $plugindir"
case " $cflags " in *" -I$prefix/include "*) ;; *) fail "cflags do not point at $prefix/include: $cflags" ;; esac
case " $cflags " in *" -fvisibility=hidden "*) ;; *) fail "cflags lack -fvisibility=hidden" ;; esac
for flag in -Wl,--no-undefined -Wl,-z,now -ljansson; do
    case " $libs " in *" $flag "*) ;; *) fail "libs lack $flag: $libs" ;; esac
done
case "$plugindir" in "$prefix"/*/dengon/plugins) ;; *) fail "plugindir not under $prefix: $plugindir" ;; esac
hdr_major=$(sed -n 's/^#define DG_ABI_MAJOR \([0-9]*\)$/\1/p' "$header")
hdr_minor=$(sed -n 's/^#define DG_ABI_MINOR \([0-9]*\)$/\1/p' "$header")
[ "$(pkg-config --variable=abi_major dengon-sdk)" = "$hdr_major" ] || fail "abi_major differs from plugin.h"
[ "$(pkg-config --variable=abi_minor dengon-sdk)" = "$hdr_minor" ] || fail "abi_minor differs from plugin.h"
[ "$(pkg-config --variable=plugin_ldflags dengon-sdk)" = "-shared -Wl,--no-undefined -Wl,-z,now" ] ||
    fail "unexpected plugin_ldflags"
echo "dengon-sdk $(pkg-config --modversion dengon-sdk), ABI $hdr_major.$hdr_minor"

# The strict flags really bite: an undefined reference must not link.
cat >"$tmp/undefined.c" <<'EOF'
#include <dengon/plugin.h>
void not_defined_anywhere(void);
void calls_it(void);
void calls_it(void) { not_defined_anywhere(); }
EOF
# shellcheck disable=SC2086 # word splitting of pkg-config output is intended
if cc -fPIC -shared $cflags -o "$tmp/undefined.so" "$tmp/undefined.c" $libs 2>"$tmp/undefined.err"; then
    fail "a plugin with an undefined symbol linked: --no-undefined is not in effect"
fi
grep -q not_defined_anywhere "$tmp/undefined.err" || fail "unexpected link error: $(cat "$tmp/undefined.err")"
echo "ok: an undefined symbol is a link error"

# ---------------------------------------------------------------- 3. build out of tree
exsrc="$tmp/hello"
cp -r "$src/sdk/examples/hello" "$exsrc"
rm -rf "$exsrc/build"

check_library() { # LIB: one exported symbol, eager binding, jansson linked
    local lib=$1 syms
    syms=$(nm -D --defined-only "$lib" | awk '{ print $NF }' |
        grep -v -x -E '_init|_fini|_edata|_end|__bss_start' | tr '\n' ' ')
    [ "$syms" = "dg_plugin_entry " ] || fail "$lib exports [$syms], expected only dg_plugin_entry"
    readelf -d "$lib" | grep -q -E 'FLAGS.*(BIND_NOW|NOW)' || fail "$lib is not linked with -z now"
    readelf -d "$lib" | grep -q 'NEEDED.*libjansson' || fail "$lib does not link jansson"
    echo "ok: $lib exports only dg_plugin_entry, BIND_NOW"
}

step "make (Makefile, installed SDK only)"
# CPATH & co. could smuggle in the source tree's headers: drop them.
unset CPATH C_INCLUDE_PATH
make -C "$exsrc" CFLAGS="-O2 -g -Werror" 2>&1 | tee "$tmp/make.out"
if grep -F -q "$src/sdk/include" "$tmp/make.out"; then
    fail "the example was compiled against the source tree"
fi
check_library "$exsrc/libhello.so"
make -C "$exsrc" check

step "cmake (CMakeLists.txt, installed SDK only)"
cmake -S "$exsrc" -B "$tmp/hello-cmake" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_FLAGS=-Werror
cmake --build "$tmp/hello-cmake" --verbose 2>&1 | tee "$tmp/cmake.out"
if grep -F -q "$src/sdk/include" "$tmp/cmake.out"; then
    fail "the CMake build of the example used the source tree"
fi
check_library "$tmp/hello-cmake/libhello.so"
DESTDIR="$tmp/stage-cmake" cmake --install "$tmp/hello-cmake"
for f in plugin.json libhello.so; do
    [ -f "$tmp/stage-cmake$plugindir/hello/$f" ] || fail "cmake --install did not stage hello/$f"
done

# ---------------------------------------------------------------- 4. install the plugin
step "make install"
make -C "$exsrc" install DESTDIR="$tmp/stage"
for f in plugin.json libhello.so; do
    [ -f "$tmp/stage$plugindir/hello/$f" ] || fail "make install DESTDIR did not stage hello/$f"
done
make -C "$exsrc" install PLUGINDIR="$tmp/plugins"
for f in plugin.json libhello.so; do
    [ -f "$tmp/plugins/hello/$f" ] || fail "make install PLUGINDIR did not install hello/$f"
done
cmp -s "$exsrc/plugin.json" "$tmp/plugins/hello/plugin.json" || fail "installed plugin.json differs"
echo "ok: installed into $tmp/plugins/hello"

# ---------------------------------------------------------------- 5. run it
dengond=${DENGOND:-$build/bin/dengond}
dengon=${DENGON:-$build/bin/dengon}
for bin in "$dengond" "$dengon"; do
    if [ ! -x "$bin" ]; then
        fail "$bin is not built: the SDK install and the out-of-tree build passed, but running the plugin needs dengond and dengon"
    fi
done

home="$tmp/home"
step "dengond --home $home --plugin-dir $tmp/plugins"
# Only this plugin (--no-system-plugins: nothing binds network ports), and no
# system config file from this machine.
"$dengond" --home "$home" --plugin-dir "$tmp/plugins" --no-system-plugins \
    --system-config "$tmp/no-system.ini" --log-level debug >"$tmp/dengond.out" 2>&1 &
daemon_pid=$!
echo "dengond pid $daemon_pid"

ready=0
for _ in $(seq 1 100); do
    if ! kill -0 "$daemon_pid" 2>/dev/null; then
        wait "$daemon_pid" && st=0 || st=$?
        daemon_pid=""
        fail "dengond exited (status $st) before answering 'dengon status'"
    fi
    if "$dengon" --home "$home" status >/dev/null 2>&1; then
        ready=1
        break
    fi
    sleep 0.1
done
[ "$ready" = 1 ] || fail "'dengon --home $home status' did not succeed within 10 s"
"$dengon" --home "$home" status

step "dengon plugins --json"
plugins=$("$dengon" --home "$home" plugins --json) || fail "dengon plugins --json failed"
state=$(jfind "$plugins" state id=hello) || fail "hello missing from 'dengon plugins --json': $plugins"
[ "$state" = active ] || fail "hello is '$state', expected 'active': $plugins"
echo "ok: hello is active"

greet() { # hello.greet with the given params, JSON output
    "$dengon" --home "$home" call hello.greet "$@" --json
}

step "dengon call hello.greet {\"name\":\"Ann\"}"
out=$(greet '{"name":"Ann"}') || fail "dengon call hello.greet failed: $out"
echo "$out"
[ "$(jfind "$out" greeting)" = "Hello, Ann!" ] || fail "expected greeting 'Hello, Ann!' in: $out"
seen=$(jfind "$out" events_seen)
case "$seen" in '' | *[!0-9]*) fail "events_seen is not a count: $seen" ;; esac
# The host publishes core.plugin.state when hello becomes active, after start()
# subscribed to it: at least that one event has been delivered by now.
[ "$seen" -ge 1 ] || fail "events_seen is $seen: core.plugin.state for hello's own start was not delivered"

step "dengon call hello.greet (no params)"
out=$("$dengon" --home "$home" call hello.greet --json) || fail "hello.greet without params failed: $out"
[ "$(jfind "$out" greeting)" = "Hello, world!" ] || fail "expected 'Hello, world!' in: $out"
# The first call's hello.greeted event came back through the hello.* subscription.
[ "$(jfind "$out" greetings_seen)" -ge 1 ] || fail "hello.greeted was not delivered to hello.*: $out"

step "dengon call hello.greet with bad params fails"
if out=$(greet '{"name":5}' 2>&1); then
    fail "hello.greet accepted {\"name\":5}: $out"
fi
echo "refused as expected: $out"

step "dengon config set hello.greeting Hi (a live key)"
"$dengon" --home "$home" config set hello.greeting Hi || fail "dengon config set hello.greeting Hi failed"
got=""
for _ in $(seq 1 50); do
    out=$(greet '{"name":"Ann"}') || fail "dengon call hello.greet failed: $out"
    got=$(jfind "$out" greeting)
    [ "$got" = "Hi, Ann!" ] && break
    sleep 0.1
done
[ "$got" = "Hi, Ann!" ] || fail "after config set the greeting is '$got', expected 'Hi, Ann!'"
grep -q -E '^[[:space:]]*(hello\.greeting|greeting)[[:space:]]*=[[:space:]]*Hi[[:space:]]*$' \
    "$home/config/dengon.ini" || fail "config set did not persist hello.greeting in $home/config/dengon.ini"
echo "ok: live config applied and persisted"

# ---------------------------------------------------------------- 6. stop
step "stop dengond (SIGTERM to pid $daemon_pid)"
pid=$daemon_pid
kill -TERM "$pid"
stopped=0
for _ in $(seq 1 100); do
    if ! kill -0 "$pid" 2>/dev/null; then
        stopped=1
        break
    fi
    sleep 0.1
done
[ "$stopped" = 1 ] || fail "dengond did not exit within 10 s of SIGTERM"
daemon_pid=""
wait "$pid" && st=0 || st=$?
[ "$st" = 0 ] || fail "dengond exited with status $st after SIGTERM"
grep -q 'stopping after' "$tmp/dengond.out" "$home/logs/dengond.log" 2>/dev/null ||
    fail "hello's stop() did not run (its 'stopping after ...' log line is missing)"

echo "PASS: SDK installed, example built out of tree (make + cmake), loaded and used in dengond"
