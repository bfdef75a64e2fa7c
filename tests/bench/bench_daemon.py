"""Daemon start-up, idle memory and idle wake-ups, with baselines from the same run.

Figures printed (nothing is asserted; targets: ready < 200 ms, idle RSS < 20 MB,
no wake-ups when nothing happens):
  - start-to-ready: spawn dengond until core.status answers on the control socket,
    median of N runs, with all in-tree plugins and with --safe-mode (baseline:
    the same process with no plugin code); each run starts a new home (the first
    start creates the identity and the encryption keys) and then restarts it
    (the daemon as it starts every day: the target applies to this one);
  - idle RSS (VmRSS) and peak (VmHWM) after start;
  - idle wake-ups: context switches of every dengond thread over an idle window,
    next to a `sleep` process measured over the same window (baseline).
"""
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

BUILD = os.environ.get("DENGON_BUILD_DIR", os.path.join(os.path.dirname(__file__), "../../build"))
DENGOND = os.path.join(BUILD, "bin", "dengond")
RUNS = int(os.environ.get("BENCH_RUNS", "9"))
IDLE_SECONDS = float(os.environ.get("BENCH_IDLE_SECONDS", "5"))


def status(sock_path):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(sock_path)
        s.sendall(b'{"id":1,"method":"core.status"}\n')
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                raise ConnectionError
            buf += chunk
    return json.loads(buf)["result"]


# Benchmark traffic stays on loopback: the protocol plugin bound to a loopback
# address sends no broadcasts; an unused port keeps it off the real 2425.
LOOPBACK_ONLY = ["-o", "ipmsg.bind_address=127.0.0.9", "-o", "ipmsg.port=24299"]


def start(home, extra):
    sock = os.path.join(home, "run", "control.sock")
    t0 = time.monotonic()
    proc = subprocess.Popen([DENGOND, "--home", home, "--system-config", "/nonexistent"]
                            + LOOPBACK_ONLY + extra,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"dengond exited with {proc.returncode}")
        try:
            st = status(sock)
            return proc, (time.monotonic() - t0) * 1000.0, st
        except (OSError, ConnectionError, ValueError):
            time.sleep(0.001)


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    proc.wait(10)


def proc_status(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def switches(pid):
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/status") as f:
            for line in f:
                if "ctxt_switches" in line:
                    total += int(line.split()[1])
    return total


def main():
    tmp = tempfile.mkdtemp(prefix="dengon-bench-")
    try:
        results = {}
        for label, extra in (("all in-tree plugins", []), ("safe mode (baseline)", ["--safe-mode"])):
            first, again = [], []
            for i in range(RUNS):
                home = os.path.join(tmp, f"{len(results)}-{i}")
                proc, ms, st = start(home, extra)  # a new home: identity and keys are created
                first.append(ms)
                stop(proc)
                proc, ms, st = start(home, extra)  # the same home again: an installed daemon
                again.append(ms)
                stop(proc)
            results[label + ", restart"] = (statistics.median(again), min(again), max(again),
                                            st["plugins"])
            results[label + ", first start (new home)"] = (
                statistics.median(first), min(first), max(first), st["plugins"])
        for label, (med, lo, hi, plugins) in results.items():
            print(f"start-to-ready, {label}: median {med:.1f} ms (min {lo:.1f}, max {hi:.1f}, "
                  f"{RUNS} runs; plugins {json.dumps(plugins)})")

        proc, _, _ = start(os.path.join(tmp, "idle"), [])
        sleeper = subprocess.Popen(["sleep", str(IDLE_SECONDS + 5)])
        try:
            time.sleep(1.0)  # let start-up settle
            d0, s0 = switches(proc.pid), switches(sleeper.pid)
            time.sleep(IDLE_SECONDS)
            d1, s1 = switches(proc.pid), switches(sleeper.pid)
            rss, hwm = proc_status(proc.pid, "VmRSS"), proc_status(proc.pid, "VmHWM")
            print(f"idle RSS: {rss / 1024:.1f} MB (peak {hwm / 1024:.1f} MB)")
            print(f"idle wake-ups over {IDLE_SECONDS:.0f} s: dengond {d1 - d0}, "
                  f"baseline sleep {s1 - s0}")
        finally:
            stop(proc)
            sleeper.kill()
            sleeper.wait()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
