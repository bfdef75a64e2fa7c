"""Presence at scale: 10,000 simulated IP Messenger hosts announce themselves.

One dengond (ipmsg + users plugins from <build>/lib/dengon/plugins) bound to
127.0.0.2; every simulated host is its own UDP socket on its own loopback
address (127.1.x.y, same port as the daemon), so the daemon's ANSENTRY goes
back to that host and can be counted. All traffic stays on 127.0.0.0/8.

Figures printed (nothing is asserted; issue 3 targets: all hosts listed and
answered, `dengon users --json` < 50 ms, RSS < 64 MB):
  - how many BR_ENTRY were sent and over how long;
  - how many hosts ipmsg.peers and users.list list, and when each got there;
  - ANSENTRY answers received (distinct hosts);
  - `dengon users --json` wall time, median of N runs, next to
    `dengon status --json` timed the same way (baseline: CLI start-up and one
    small RPC), and the bare users.list RPC over the control socket;
  - daemon RSS (VmRSS) and peak (VmHWM): idle, after the burst, after the listings.

Environment: BENCH_HOSTS (10000), BENCH_SEND_SECONDS (2: the burst is paced
evenly over this long; 0 = as fast as Python sends), BENCH_RUNS (9),
BENCH_PORT (24320).
"""
import os
import resource
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from dgtest import BUILD_DIR, DENGON, Daemon  # noqa: E402

HOSTS = int(os.environ.get("BENCH_HOSTS", "10000"))
SEND_SECONDS = float(os.environ.get("BENCH_SEND_SECONDS", "2"))
RUNS = int(os.environ.get("BENCH_RUNS", "9"))
PORT = int(os.environ.get("BENCH_PORT", "24320"))
DAEMON_ADDR = "127.0.0.2"
PLUGINS = os.path.join(BUILD_DIR, "lib", "dengon", "plugins")

IPMSG_BR_ENTRY = 0x00000001
IPMSG_ANSENTRY = 0x00000003
IPMSG_CAPUTF8OPT = 0x01000000
IPMSG_UTF8OPT = 0x00800000


def host_addr(i):
    """127.1.0.1 upwards: never 127.0.0.x, where other tests run their daemons."""
    n = i + 1
    return "127.%d.%d.%d" % (1 + (n >> 16), (n >> 8) & 255, n & 255)


def entry_packet(i, pktno):
    user, host = "sim%05d" % i, "host%05d" % i
    nick, group = "Simulated %05d" % i, "group%02d" % (i % 50)
    cmd = IPMSG_BR_ENTRY | IPMSG_CAPUTF8OPT | IPMSG_UTF8OPT
    head = "1:%d:%s:%s:%d:%s" % (pktno, user, host, cmd, nick)
    return head.encode() + b"\0" + group.encode() + b"\0"


def mode_of(data):
    try:
        return int(data.split(b":", 5)[4]) & 0xFF
    except (IndexError, ValueError):
        return -1


class Answers(threading.Thread):
    """Reads every simulated host's socket; counts hosts that got an ANSENTRY."""

    def __init__(self, socks):
        super().__init__(daemon=True)
        self.sel = selectors.DefaultSelector()
        for i, s in enumerate(socks):
            self.sel.register(s, selectors.EVENT_READ, i)
        self.answered = set()
        self.other = 0
        self.last = None
        self.stopping = False

    def run(self):
        while not self.stopping:
            for key, _ in self.sel.select(0.1):
                try:
                    data = key.fileobj.recv(65536)
                except BlockingIOError:
                    continue
                if mode_of(data) == IPMSG_ANSENTRY:
                    self.answered.add(key.data)
                    self.last = time.monotonic()
                else:
                    self.other += 1


def proc_kb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def timed_cli(home, *args):
    times = []
    out = b""
    for _ in range(RUNS):
        t0 = time.monotonic()
        p = subprocess.run([DENGON, "--home", home, "--json"] + list(args), capture_output=True)
        times.append((time.monotonic() - t0) * 1000.0)
        if p.returncode != 0:
            raise RuntimeError(f"dengon {' '.join(args)} failed: {p.stderr.decode()}")
        out = p.stdout
    return statistics.median(times), min(times), max(times), len(out)


def timed_rpc(d, method, params=None):
    times = []
    n = 0
    for _ in range(RUNS):
        t0 = time.monotonic()
        r = d.result(method, params)
        times.append((time.monotonic() - t0) * 1000.0)
        n = len(r) if isinstance(r, list) else 0
    return statistics.median(times), n


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = HOSTS + 256
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
        if hard < want:
            print(f"RLIMIT_NOFILE hard limit {hard} < {want}: cannot open {HOSTS} sockets")
            return 1
    tmp = tempfile.mkdtemp(prefix="dengon-bench-presence-")
    d = Daemon(os.path.join(tmp, "home"), plugin_dirs=[PLUGINS], options=[
        "ipmsg.bind_address=" + DAEMON_ADDR, "ipmsg.port=%d" % PORT,
        "identity.user=bench", "identity.host=bench", "ipmsg.announce_interval_s=0",
    ])
    socks = []
    try:
        d.start()
        plugins = d.plugins()
        for p in ("ipmsg", "users"):
            if plugins.get(p, {}).get("state") != "active":
                print(f"plugin {p} not active: {plugins.get(p)}")
                return 1
        pid = d.proc.pid
        rss0, hwm0 = proc_kb(pid, "VmRSS"), proc_kb(pid, "VmHWM")

        for i in range(HOSTS):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((host_addr(i), PORT))
            s.setblocking(False)
            socks.append(s)
        packets = [entry_packet(i, 1000 + i) for i in range(HOSTS)]
        answers = Answers(socks)
        answers.start()

        dest = (DAEMON_ADDR, PORT)
        t0 = time.monotonic()
        for i, s in enumerate(socks):
            if SEND_SECONDS > 0 and i % 100 == 0:
                ahead = t0 + SEND_SECONDS * i / HOSTS - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)
            s.sendto(packets[i], dest)
        sent_s = time.monotonic() - t0
        print(f"sent: {HOSTS} BR_ENTRY from {HOSTS} hosts ({host_addr(0)}..{host_addr(HOSTS - 1)}) "
              f"in {sent_s:.2f} s")

        # Wait until both lists and the answers stop growing (answers are
        # delayed up to ~4 s on purpose, ipmsg-protocol.md: answer storms).
        seen = {"ipmsg.peers": (0, None), "users.list": (0, None)}
        stable_since = time.monotonic()
        last = None
        while time.monotonic() - t0 < 60:
            now_counts = {}
            for m in seen:
                n = len(d.result(m))
                if n > seen[m][0]:
                    seen[m] = (n, time.monotonic() - t0)
                now_counts[m] = n
            state = (now_counts["ipmsg.peers"], now_counts["users.list"], len(answers.answered))
            if state != last:
                last, stable_since = state, time.monotonic()
            elif time.monotonic() - stable_since > 6 or (
                    state == (HOSTS, HOSTS, HOSTS) and time.monotonic() - stable_since > 1):
                break
            time.sleep(0.25)
        answers.stopping = True
        answers.join()
        for m, (n, at) in seen.items():
            when = f", complete after {at:.2f} s" if at is not None else ""
            print(f"listed by {m}: {n} of {HOSTS}{when}")
        got = len(answers.answered)
        after = f", last after {answers.last - t0:.2f} s" if answers.last else ""
        print(f"ANSENTRY answers received: {got} of {HOSTS} hosts{after} "
              f"(other packets: {answers.other})")
        st = d.result("ipmsg.stats")
        print(f"ipmsg.stats: {st}")
        burst_rss, burst_hwm = proc_kb(pid, "VmRSS"), proc_kb(pid, "VmHWM")

        med, lo, hi, size = timed_cli(d.home, "users")
        bmed, blo, bhi, bsize = timed_cli(d.home, "status")
        print(f"dengon users --json ({size} bytes): median {med:.1f} ms "
              f"(min {lo:.1f}, max {hi:.1f}, {RUNS} runs)")
        print(f"dengon status --json (baseline, {bsize} bytes): median {bmed:.1f} ms "
              f"(min {blo:.1f}, max {bhi:.1f}, {RUNS} runs)")
        for m in ("users.list", "ipmsg.peers", "core.status"):
            rmed, n = timed_rpc(d, m)
            print(f"{m} RPC on the control socket: median {rmed:.1f} ms ({n} entries)")

        rss, hwm = proc_kb(pid, "VmRSS"), proc_kb(pid, "VmHWM")
        print(f"daemon RSS: idle before {rss0 / 1024:.1f} MB (peak {hwm0 / 1024:.1f} MB); "
              f"after the burst {burst_rss / 1024:.1f} MB (peak {burst_hwm / 1024:.1f} MB); "
              f"after the listings {rss / 1024:.1f} MB (peak {hwm / 1024:.1f} MB)")
        rc = d.stop()
        print(f"daemon exit code: {rc}")
        return 0 if rc == 0 else 1
    finally:
        for s in socks:
            s.close()
        d.kill()
        subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    sys.exit(main())
