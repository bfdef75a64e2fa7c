"""File transfer between two daemons, with a raw TCP copy of the same file in the same run.

Two dengond (ipmsg + files, from <build>/lib/dengon/plugins) on 127.0.0.2
(alice, sending) and 127.0.0.3 (bob, receiving). The data and the received
copies live in a temporary folder on a tmpfs (/dev/shm) when it has room,
else in the build tree (bench_dir; BENCH_FILES_DIR overrides), the same for
every run, removed at the end.

Figures printed (nothing is asserted; issue 4 targets: plain transfer
>= 0.9 x the raw copy, bounded memory):
  - 1 GiB file of RANDOM bytes (not sparse: a sparse file is served from
    the zero page without reading anything), written once per run, so it
    sits in the page cache for both runs; sync(2) before each run, so that
    neither pays for the writeback of the other's output:
      raw:  Python socket.sendfile() on 127.0.0.2 to a reader process on
            127.0.0.3 writing 256 KiB chunks to a file (no fsync, like the
            daemon), timed from connect to the reader's last write;
      plain: files.send + files.accept, timed from the accept call to the
            "done" state (polled every 10 ms);
    MB/s of both (MB = 10^6 bytes) and the ratio plain / raw;
  - peak RSS (VmHWM) of both daemons after the transfers;
  - a folder of 10,000 small files (1 KiB each, random): files/s from the
    accept to "done", and for scale the same disk work done by Python just
    before, in the same folder tree (per file: create with O_EXCL, write,
    set the mtime, close, rename). Small-file figures of a VM disk vary a
    lot from one run to the next (journal commits, writeback of the earlier
    phases): compare the two lines of one run, not runs.

Environment: BENCH_FILE_MB (default 1024), BENCH_FILE_REPEAT (5: the file
runs alternate raw, plain, raw, ... and the best of each is compared),
BENCH_FOLDER_FILES (10000).
All traffic stays on 127.0.0.2-3 on ports picked free for the run.
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from dgtest import BUILD_DIR, Daemon, free_port, wait_until  # noqa: E402

PLUGINS = os.path.join(BUILD_DIR, "lib", "dengon", "plugins")
FILE_MB = int(os.environ.get("BENCH_FILE_MB", "1024"))
FOLDER_FILES = int(os.environ.get("BENCH_FOLDER_FILES", "10000"))
REPEAT = int(os.environ.get("BENCH_FILE_REPEAT", "5"))
A_ADDR, B_ADDR = "127.0.0.2", "127.0.0.3"
CHUNK = 256 * 1024

READER = r"""
import socket, sys, time
addr, port, path, size = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((addr, port))
srv.listen(1)
print("ready", flush=True)
c, _ = srv.accept()
got = 0
buf = bytearray(%d)
view = memoryview(buf)
with open(path, "wb", buffering=0) as out:
    while got < size:
        n = c.recv_into(buf)
        if n == 0:
            break
        out.write(view[:n])
        got += n
print(got, time.monotonic(), flush=True)
""" % CHUNK


def node(tmp, name, addr, peer, port):
    opts = [
        "ipmsg.bind_address=" + addr,
        "ipmsg.port=%d" % port,
        "identity.user=" + name,
        "identity.host=bench",
        "ipmsg.hosts=%s:%d" % (peer, port),
        "ipmsg.announce_interval_s=0",
        "files.download_dir=" + os.path.join(tmp, name + "-downloads"),
        # Plain transfers: without this the premium filecrypt plugin runs its
        # 2-minute trial and encrypts them (bench.filecrypt measures that).
        "plugins.filecrypt.enabled=false",
    ]
    d = Daemon(os.path.join(tmp, name), plugin_dirs=[PLUGINS], options=opts)
    d.start()
    plugins = d.plugins()
    for p in ("ipmsg", "files"):
        if plugins.get(p, {}).get("state") != "active":
            raise RuntimeError("%s: plugin %s is not active: %s" % (name, p, plugins.get(p)))
    if plugins.get("filecrypt", {}).get("state") == "active":
        raise RuntimeError("%s: filecrypt is active: the plain figures would be encrypted" % name)
    return d


def vm_hwm_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


def make_random(path, size):
    with open(path, "wb") as out:
        left = size
        while left:
            n = min(left, 8 << 20)
            out.write(os.urandom(n))
            left -= n


def raw_copy(src, dst, size):
    """Seconds for a sendfile() copy to a reader process writing to dst."""
    port = free_port((A_ADDR, B_ADDR), tcp=True)
    reader = subprocess.Popen([sys.executable, "-c", READER, B_ADDR, str(port), dst, str(size)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert reader.stdout.readline().strip() == "ready"
        with socket.socket() as s, open(src, "rb") as f:
            s.bind((A_ADDR, 0))
            t0 = time.monotonic()
            s.connect((B_ADDR, port))
            s.sendfile(f)
            s.shutdown(socket.SHUT_WR)
            got, t1 = reader.stdout.readline().split()
        reader.wait(timeout=60)
    finally:
        if reader.poll() is None:
            reader.kill()
            reader.wait()
    if int(got) != size:
        raise RuntimeError("raw copy: %s of %d bytes" % (got, size))
    return float(t1) - t0


def disk_baseline(root, n):
    """Seconds to write n 1 KiB files the way a receiver does, on the same disk."""
    os.makedirs(root)
    data = os.urandom(1024)
    t0 = time.monotonic()
    for i in range(n):
        part = os.path.join(root, "f%05d.bin.part" % i)
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.write(fd, data)
        os.utime(fd, (1500000000, 1500000000))
        os.close(fd)
        os.rename(part, os.path.join(root, "f%05d.bin" % i))
    elapsed = time.monotonic() - t0
    shutil.rmtree(root)
    return elapsed


def transfer(a, b, path, what):
    """Seconds from files.accept to the offer's "done" on bob."""
    sent = a.result("files.send", {"to": "bob", "paths": [path]})
    offer = wait_until(lambda: [o for o in b.result("files.list")["offers"]
                                if o["packet_no"] == sent["id"]], timeout=30, what=what)[0]
    t0 = time.monotonic()
    b.result("files.accept", {"id": offer["id"]})

    def state():
        o = [o for o in b.result("files.list")["offers"] if o["id"] == offer["id"]][0]
        return o if o["state"] != "downloading" else None
    end = wait_until(state, timeout=600, interval=0.01, what=what + " done")
    t1 = time.monotonic()
    if end["state"] != "done":
        raise RuntimeError("%s: %s (%s)" % (what, end["state"], end.get("error")))
    return t1 - t0


def bench_dir(size):
    """Where the data and the received copies go: a tmpfs (/dev/shm) when it
    has room for three copies, else the build tree. Both sides of every
    comparison write to the same place; on this VM the disk's throughput
    varied 2x between runs (a raw copy at 633 or 1,493 MB/s), which decided
    the ratio instead of the code. BENCH_FILES_DIR picks another folder (a
    real disk, to include it)."""
    chosen = os.environ.get("BENCH_FILES_DIR")
    if chosen:
        return chosen
    try:
        st = os.statvfs("/dev/shm")
        if st.f_bavail * st.f_frsize >= 3 * size + (256 << 20):
            return "/dev/shm"
    except OSError:
        pass
    return BUILD_DIR


def main():
    size = FILE_MB * 1024 * 1024
    tmp = tempfile.mkdtemp(prefix="bench-files-", dir=bench_dir(size))
    daemons = []
    try:
        src = os.path.join(tmp, "random.bin")
        t = time.monotonic()
        make_random(src, size)
        print("prepared %d MiB of random bytes in %.1f s (%s)" % (FILE_MB, time.monotonic() - t,
                                                                 tmp))
        port = free_port((A_ADDR, B_ADDR), tcp=True)
        a = node(tmp, "alice", A_ADDR, B_ADDR, port)
        daemons.append(a)
        b = node(tmp, "bob", B_ADDR, A_ADDR, port)
        daemons.append(b)
        wait_until(lambda: any(p["key"] == "bob@bench" for p in a.result("ipmsg.peers")),
                   timeout=10, what="alice sees bob")
        # Alternated, best of REPEAT each: one slow moment of the shared VM (its
        # disk, or CPU time taken by the host) does not decide the ratio.
        raw_runs, plain_runs = [], []
        raw_dst = os.path.join(tmp, "raw-copy.bin")
        got = os.path.join(tmp, "bob-downloads", "random.bin")
        for _ in range(REPEAT):
            os.sync()  # each run starts with no dirty pages left by the one before
            raw_runs.append(raw_copy(src, raw_dst, size))
            os.unlink(raw_dst)
            os.sync()
            plain_runs.append(transfer(a, b, src, "1 GiB file"))
            if os.path.getsize(got) != size:
                raise RuntimeError("received %d of %d bytes" % (os.path.getsize(got), size))
            os.unlink(got)
        raw_s, plain_s = min(raw_runs), min(plain_runs)
        hwm_a, hwm_b = vm_hwm_kb(a.proc.pid), vm_hwm_kb(b.proc.pid)

        folder = os.path.join(tmp, "folder")
        os.makedirs(folder)
        for i in range(FOLDER_FILES):
            with open(os.path.join(folder, "f%05d.bin" % i), "wb") as out:
                out.write(os.urandom(1024))
        os.sync()
        disk_s = disk_baseline(os.path.join(tmp, "baseline"), FOLDER_FILES)
        os.sync()
        folder_s = transfer(a, b, folder, "folder")
        n = len(os.listdir(os.path.join(tmp, "bob-downloads", "folder")))
        if n != FOLDER_FILES:
            raise RuntimeError("folder: %d of %d files" % (n, FOLDER_FILES))

        mb = size / 1e6
        raw_rate, plain_rate = mb / raw_s, mb / plain_s
        print("file (%d MiB, random):" % FILE_MB)
        print("  raw TCP copy (sendfile -> reader -> file): %8.1f MB/s (best of %s s)"
              % (raw_rate, ", ".join("%.2f" % t for t in raw_runs)))
        print("  dengon plain transfer:                     %8.1f MB/s (best of %s s)"
              % (plain_rate, ", ".join("%.2f" % t for t in plain_runs)))
        print("  ratio plain / raw: %.2f (target >= 0.9)" % (plain_rate / raw_rate))
        print("peak RSS (VmHWM) after the file and before the folder: alice (sender) %.1f MB, "
              "bob (receiver) %.1f MB" % (hwm_a / 1024, hwm_b / 1024))
        print("folder of %d files x 1 KiB:" % FOLDER_FILES)
        print("  disk baseline (Python: create, write, mtime, close, rename): %8.0f files/s"
              % (FOLDER_FILES / disk_s))
        print("  dengon folder transfer:                                      %8.0f files/s "
              "(%.2f s)" % (FOLDER_FILES / folder_s, folder_s))
        print("peak RSS (VmHWM) after the folder: alice %.1f MB, bob %.1f MB"
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
