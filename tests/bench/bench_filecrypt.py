"""Encrypted file transfer (§6.6, plugin filecrypt) between two licensed daemons.

Two dengond (ipmsg, crypto, files, filecrypt) on 127.0.0.2 (alice, sending)
and 127.0.0.3 (bob, receiving), licensed with a test licence made for the run
(plugins/filecrypt/tests/filecrypt_env.py). The data and the received copies
live in a temporary folder where bench_files.bench_dir puts them (a tmpfs
when it has room), removed at the end.

Figures printed (nothing is asserted; issue 4 target: encrypted transfer
>= 0.8 x min(raw copy, AES-256-CTR single-core throughput)):
  - 1 GiB file of random bytes, in the page cache, sync(2) before each run:
      raw:        Python socket.sendfile() to a reader process writing to
                  disk (bench_files.raw_copy), in this run;
      openssl:    `openssl speed -evp aes-256-ctr` single-core throughput,
                  16384-byte blocks ("16384 bytes" column);
      encrypted:  files.send + files.accept between the daemons, timed from
                  the accept to the "done" state; the offer must show
                  "encrypted": true;
    MB/s (10^6 bytes) of each and the ratio encrypted / min(raw, openssl);
  - peak RSS (VmHWM) of both daemons after the transfers.

Environment: BENCH_FILE_MB (default 1024), BENCH_FILE_REPEAT (5: raw and
encrypted runs alternate, the best of each is compared), BENCH_OPENSSL_SECONDS
(2). All traffic stays on 127.0.0.2-3 on ports picked free for the run.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "plugins", "filecrypt", "tests"))
from bench_files import A_ADDR, B_ADDR, bench_dir, make_random, raw_copy, vm_hwm_kb  # noqa: E402
from dgtest import BUILD_DIR, Daemon, free_port, wait_until  # noqa: E402
import filecrypt_env  # noqa: E402

PLUGINS = os.path.join(BUILD_DIR, "lib", "dengon", "plugins")
TOOL = os.path.join(BUILD_DIR, "bin", "dengon-licence")
FILE_MB = int(os.environ.get("BENCH_FILE_MB", "1024"))
REPEAT = int(os.environ.get("BENCH_FILE_REPEAT", "5"))
OPENSSL_SECONDS = int(os.environ.get("BENCH_OPENSSL_SECONDS", "2"))


def openssl_ctr_mbps():
    """Single-core AES-256-CTR throughput (MB/s) of `openssl speed`, 16384-byte blocks."""
    out = subprocess.run(["openssl", "speed", "-seconds", str(OPENSSL_SECONDS), "-bytes",
                          "16384", "-evp", "aes-256-ctr"], capture_output=True, text=True,
                         check=True).stdout
    lines = out.splitlines()
    head = [i for i, l in enumerate(lines) if l.startswith("type") and "16384 bytes" in l]
    if not head:
        raise RuntimeError("openssl speed: no 16384-byte column in:\n" + out)
    # "type  16 bytes  64 bytes ..." (or only "16384 bytes" with -bytes): the column's index.
    col = [c for c in lines[head[0]].split()[1:] if c != "bytes"].index("16384")
    for line in lines[head[0] + 1:]:
        if line.lower().startswith("aes-256-ctr"):
            value = line.split()[1 + col]
            return float(value.rstrip("k")) * 1000 / 1e6  # 1000s of bytes per second
    raise RuntimeError("openssl speed: no aes-256-ctr line in:\n" + out)


def node(tmp, name, addr, peer, port, keys, policy, licence):
    home = os.path.join(tmp, name)
    filecrypt_env.prepare_home(home, name, licence)
    opts = [
        "ipmsg.bind_address=" + addr,
        "ipmsg.port=%d" % port,
        "identity.user=" + name,
        "identity.host=bench",
        "ipmsg.hosts=%s:%d" % (peer, port),
        "ipmsg.announce_interval_s=0",
        "files.download_dir=" + os.path.join(tmp, name + "-downloads"),
    ]
    d = Daemon(home, plugin_dirs=[PLUGINS], options=opts,
               args=["--policy-dir", policy, "--keys-dir", keys])
    d.start()
    plugins = d.plugins()
    for p in ("ipmsg", "crypto", "files", "filecrypt"):
        if plugins.get(p, {}).get("state") != "active":
            raise RuntimeError("%s: plugin %s is not active: %s" % (name, p, plugins.get(p)))
    return d, name + "@bench"  # keys carry no fingerprint field (ADR 0017)


def transfer(a, b, to, path):
    sent = a.result("files.send", {"to": [to], "paths": [path]})
    offer = wait_until(lambda: [o for o in b.result("files.list")["offers"]
                                if o["packet_no"] == sent["id"]], timeout=30, what="offer")[0]
    t0 = time.monotonic()
    b.result("files.accept", {"id": offer["id"]})

    def state():
        o = [o for o in b.result("files.list")["offers"] if o["id"] == offer["id"]][0]
        return o if o["state"] != "downloading" else None
    end = wait_until(state, timeout=600, interval=0.01, what="transfer done")
    t1 = time.monotonic()
    if end["state"] != "done" or not end.get("encrypted"):
        raise RuntimeError("transfer: %s, encrypted=%s (%s)" % (end["state"],
                                                               end.get("encrypted"),
                                                               end.get("error")))
    return t1 - t0


def main():
    size = FILE_MB * 1024 * 1024
    tmp = tempfile.mkdtemp(prefix="bench-filecrypt-", dir=bench_dir(size))
    daemons = []
    try:
        ossl = openssl_ctr_mbps()
        src = os.path.join(tmp, "random.bin")
        make_random(src, size)
        keys, policy, licence = filecrypt_env.make_licence(TOOL, tmp)
        port = free_port((A_ADDR, B_ADDR), tcp=True)
        a, ka = node(tmp, "alice", A_ADDR, B_ADDR, port, keys, policy, licence)
        daemons.append(a)
        b, kb = node(tmp, "bob", B_ADDR, A_ADDR, port, keys, policy, licence)
        daemons.append(b)

        def pinned(d):
            return {p["peer"] for p in d.result("keys.list")["peers"]}
        wait_until(lambda: kb in pinned(a) and ka in pinned(b), timeout=15, what="keys pinned")
        raw_runs, enc_runs = [], []
        raw_dst = os.path.join(tmp, "raw-copy.bin")
        got = os.path.join(tmp, "bob-downloads", "random.bin")
        for _ in range(REPEAT):
            os.sync()
            raw_runs.append(raw_copy(src, raw_dst, size))
            os.unlink(raw_dst)
            os.sync()
            enc_runs.append(transfer(a, b, kb, src))
            if os.path.getsize(got) != size:
                raise RuntimeError("received %d of %d bytes" % (os.path.getsize(got), size))
            os.unlink(got)
        mb = size / 1e6
        raw_rate, enc_rate = mb / min(raw_runs), mb / min(enc_runs)
        base = min(raw_rate, ossl)
        print("file (%d MiB, random), encrypted (AES-256-CTR, §6.6):" % FILE_MB)
        print("  raw TCP copy (sendfile -> reader -> file): %8.1f MB/s (best of %s s)"
              % (raw_rate, ", ".join("%.2f" % t for t in raw_runs)))
        print("  openssl speed aes-256-ctr, 16 KiB blocks:  %8.1f MB/s (one core)" % ossl)
        print("  dengon encrypted transfer:                 %8.1f MB/s (best of %s s)"
              % (enc_rate, ", ".join("%.2f" % t for t in enc_runs)))
        print("  ratio encrypted / min(raw, openssl): %.2f (target >= 0.8)" % (enc_rate / base))
        print("peak RSS (VmHWM): alice (sender) %.1f MB, bob (receiver) %.1f MB"
              % (vm_hwm_kb(a.proc.pid) / 1024, vm_hwm_kb(b.proc.pid) / 1024))
        for d in daemons:
            rc = d.stop()
            if rc != 0:
                raise RuntimeError("dengond exited with %s:\n%s" % (rc, d.stderr_text()[-6000:]))
        daemons = []
        return 0
    finally:
        for d in daemons:
            d.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
