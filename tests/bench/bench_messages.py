"""Acknowledged messages between two daemons, with a raw UDP baseline from the same run.

Two dengond (ipmsg + history, from <build>/lib/dengon/plugins) on 127.0.0.2
(alice) and 127.0.0.3 (bob). Alice sends N messages to bob with chat.send
{wait: true} over several control-socket connections, each keeping DEPTH
calls in flight, so every answer is the per-message acknowledgement
(SENDMSG -> RECVMSG) or the failure after the last retry.

Figures printed (nothing is asserted; issue 3 targets: >= 20,000 msg/s,
>= 0.5 x the raw baseline, zero lost):
  - messages: msg/s, p50/p99/max send->delivered latency, delivered / failed /
    RPC errors;
  - history: messages bob stored as received, distinct texts among them
    (lost = N - distinct, duplicates = stored - distinct), and the ipmsg and
    history counters of both daemons (retries, duplicates, deferred events);
  - cpu: per message, of each daemon (and of its history writer thread,
    "dg-history") and of this client; and the CPU per message that 0.5 x the
    baseline would leave on this machine's cores;
  - baseline: a Python UDP request/ack ping-pong between 127.0.0.2 and
    127.0.0.3 (the answering side in its own process, like the second
    daemon) with the same total number of requests in flight.

The main run has the crypto plugin off (plain IPMsg, what the issue's
targets are about); a second, shorter run (BENCH_ENCRYPTED_MESSAGES, default
3000, 0 = skip) repeats it encrypted and signed, where RSA per message bounds
the rate.

Environment: BENCH_MESSAGES (default 100000), BENCH_CONNECTIONS (4),
BENCH_DEPTH (64 per connection; the control socket reads at most 128 calls
ahead per client), BENCH_BASELINE_MESSAGES (default BENCH_MESSAGES).
All traffic stays on 127.0.0.x on ports picked free for the run.
"""
import json
import os
import selectors
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from dgtest import BUILD_DIR, Daemon, free_port, read_line, wait_until  # noqa: E402

PLUGINS = os.path.join(BUILD_DIR, "lib", "dengon", "plugins")
N = int(os.environ.get("BENCH_MESSAGES", "100000"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "4"))
DEPTH = int(os.environ.get("BENCH_DEPTH", "64"))
BASELINE_N = int(os.environ.get("BENCH_BASELINE_MESSAGES", str(N)))
ENCRYPTED_N = int(os.environ.get("BENCH_ENCRYPTED_MESSAGES", "3000"))
A_ADDR, B_ADDR = "127.0.0.2", "127.0.0.3"
TEXT = "bench message %07d"


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    i = min(len(sorted_values) - 1, max(0, int(round(p / 100.0 * len(sorted_values))) - 1))
    return sorted_values[i]


def node(tmp, name, addr, peer, port, encrypted=False):
    opts = [
        "plugins.crypto.enabled=%s" % ("true" if encrypted else "false"),
        "ipmsg.bind_address=" + addr,
        "ipmsg.port=%d" % port,
        "identity.user=" + name,
        "identity.host=bench",
        "ipmsg.hosts=%s:%d" % (peer, port),
        "ipmsg.announce_interval_s=0",
    ]
    d = Daemon(os.path.join(tmp, name), plugin_dirs=[PLUGINS], options=opts)
    d.start()
    plugins = d.plugins()
    for p in ("ipmsg", "history") + (("crypto",) if encrypted else ()):
        if plugins.get(p, {}).get("state") != "active":
            raise RuntimeError("%s: plugin %s is not active: %s" % (name, p, plugins.get(p)))
    return d


class Conn:
    """One control-socket connection keeping up to DEPTH chat.send calls in flight."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.buf = b""
        self.sent = {}  # request id -> (message number, send time)


def send_messages(sock_path, to, n):
    """Returns (elapsed s, latencies s, delivered, failed, errors)."""
    sel = selectors.DefaultSelector()
    conns = [Conn(sock_path) for _ in range(CONNECTIONS)]
    for c in conns:
        sel.register(c.sock, selectors.EVENT_READ, c)
    next_msg = 0
    latencies = []
    delivered = failed = errors = 0
    answered = 0

    def fill(c):
        nonlocal next_msg
        out = []
        now = time.monotonic()
        while len(c.sent) < DEPTH and next_msg < n:
            rid = next_msg + 1
            out.append('{"id":%d,"method":"chat.send","params":{"to":"%s","text":"%s","wait":true}}\n'
                       % (rid, to, TEXT % next_msg))
            c.sent[rid] = now
            next_msg += 1
        if out:
            c.sock.sendall("".join(out).encode())

    t0 = time.monotonic()
    for c in conns:
        fill(c)
    while answered < n:
        events = sel.select(timeout=120)
        if not events:
            raise RuntimeError("no answer for 120 s (%d of %d answered)" % (answered, n))
        for key, _ in events:
            c = key.data
            chunk = c.sock.recv(1 << 20)
            if not chunk:
                raise RuntimeError("control socket closed by the daemon")
            now = time.monotonic()
            c.buf += chunk
            *lines, c.buf = c.buf.split(b"\n")
            for line in lines:
                resp = json.loads(line)
                started = c.sent.pop(resp["id"])
                answered += 1
                if "error" in resp:
                    errors += 1
                    continue
                state = resp["result"]["recipients"][0]["state"]
                if state == "delivered":
                    delivered += 1
                    latencies.append(now - started)
                else:
                    failed += 1
            fill(c)
    elapsed = time.monotonic() - t0
    for c in conns:
        sel.unregister(c.sock)
        c.sock.close()
    return elapsed, latencies, delivered, failed, errors


def stat_cpu_seconds(path):
    """User + system CPU time from a /proc .../stat file."""
    with open(path) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """CPU time of a process (all its threads)."""
    return stat_cpu_seconds("/proc/%d/stat" % pid)


def thread_cpu_seconds(pid, name):
    """CPU time of pid's threads called name (the history writer is "dg-history")."""
    total = 0.0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                if f.read().strip() != name:
                    continue
            total += stat_cpu_seconds("/proc/%d/task/%s/stat" % (pid, tid))
        except FileNotFoundError:
            continue  # the thread ended meanwhile
    return total


def history_count(d, field):
    return d.result("history.stats").get(field, 0)


def wait_history(d, n, field="received"):
    """Waits until d's history holds n messages (field: received or sent) or stops growing for 5 s."""
    last, since = -1, time.monotonic()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        got = history_count(d, field)
        if got >= n:
            return got
        if got != last:
            last, since = got, time.monotonic()
        elif time.monotonic() - since > 5:
            return got
        time.sleep(0.2)
    return history_count(d, field)


def distinct_received(d, tmp):
    """Distinct bench texts in d's history (export to a JSON file, then read it)."""
    path = os.path.join(tmp, "bob-export.json")
    r = d.call("history.export", {"format": "json", "path": path, "overwrite": True}, timeout=120)
    if "error" in r:
        raise RuntimeError("history.export: %s" % r["error"])
    with open(path) as f:
        rows = json.load(f)
    if isinstance(rows, dict):
        rows = rows.get("messages", [])
    return {m.get("text") for m in rows if m.get("direction") == "in"}


RESPONDER = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
s.bind((sys.argv[1], int(sys.argv[2])))
sys.stdout.write("ready\n"); sys.stdout.flush()
while True:
    data, addr = s.recvfrom(65536)
    if data == b"stop":
        break
    s.sendto(b"ack:" + data.split(b":", 2)[1], addr)
"""


def raw_baseline(n, in_flight):
    """UDP request/ack ping-pong, in_flight requests outstanding; (elapsed, latencies, resent)."""
    port = free_port((A_ADDR, B_ADDR))
    resp = subprocess.Popen([sys.executable, "-c", RESPONDER, B_ADDR, str(port)],
                            stdout=subprocess.PIPE, text=True)
    try:
        if resp.stdout.readline().strip() != "ready":
            raise RuntimeError("baseline responder did not start")
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        s.bind((A_ADDR, port))
        s.settimeout(0.5)
        peer = (B_ADDR, port)
        # About the size of an IPMsg SENDMSG with the same text.
        pad = b"x" * 60
        outstanding = {}
        latencies = []
        resent = 0
        nxt = 0
        t0 = time.monotonic()
        while nxt < n or outstanding:
            while len(outstanding) < in_flight and nxt < n:
                outstanding[nxt] = time.monotonic()
                s.sendto(b"req:%d:%s" % (nxt, pad), peer)
                nxt += 1
            try:
                data = s.recv(65536)
            except socket.timeout:
                for seq in outstanding:  # lost on the way: resend, latency keeps running
                    s.sendto(b"req:%d:%s" % (seq, pad), peer)
                    resent += 1
                continue
            started = outstanding.pop(int(data[4:]), None)
            if started is not None:
                latencies.append(time.monotonic() - started)
        elapsed = time.monotonic() - t0
        s.sendto(b"stop", peer)
        s.close()
        return elapsed, latencies, resent
    finally:
        try:
            resp.wait(5)
        except subprocess.TimeoutExpired:
            resp.kill()
            resp.wait()


def encrypted_run(tmp):
    """The same exchange with the crypto plugin on (RSA-2048 + AES-256, signed), for scale."""
    port = free_port((A_ADDR, B_ADDR))
    daemons = []
    os.makedirs(os.path.join(tmp, "enc"), exist_ok=True)
    try:
        a = node(os.path.join(tmp, "enc"), "alice", A_ADDR, B_ADDR, port, encrypted=True)
        daemons.append(a)
        b = node(os.path.join(tmp, "enc"), "bob", B_ADDR, A_ADDR, port, encrypted=True)
        daemons.append(b)
        wait_until(lambda: any(u["key"] == "bob@bench" and u["status"] == "online"
                               for u in a.result("ipmsg.peers")), what="bob online at alice")
        cpu0 = {d: cpu_seconds(d.proc.pid) for d in (a, b)}
        elapsed, lat, delivered, failed, errors = send_messages(a.socket_path, "bob@bench",
                                                                 ENCRYPTED_N)
        cpu = {d: cpu_seconds(d.proc.pid) - cpu0[d] for d in (a, b)}
        lat.sort()
        print("encrypted (crypto plugin on): %.0f msg/s (%d in %.2f s); delivered %d, failed %d, "
              "rpc errors %d; p50 %.2f ms; cpu per message alice %.0f us, bob %.0f us"
              % (ENCRYPTED_N / elapsed, ENCRYPTED_N, elapsed, delivered, failed, errors,
                 percentile(lat, 50) * 1e3, cpu[a] / ENCRYPTED_N * 1e6,
                 cpu[b] / ENCRYPTED_N * 1e6))
    finally:
        for d in daemons:
            d.stop()


def main():
    tmp = tempfile.mkdtemp(prefix="dengon-bench-msg-")
    daemons = []
    try:
        port = free_port((A_ADDR, B_ADDR))
        a = node(tmp, "alice", A_ADDR, B_ADDR, port)
        daemons.append(a)
        b = node(tmp, "bob", B_ADDR, A_ADDR, port)
        daemons.append(b)
        wait_until(lambda: any(u["key"] == "bob@bench" and u["status"] == "online"
                               for u in a.result("ipmsg.peers")), what="bob online at alice")

        in_flight = CONNECTIONS * DEPTH
        print("messages: %d acknowledged chat.send alice(127.0.0.2) -> bob(127.0.0.3), "
              "%d connections x %d in flight, history on" % (N, CONNECTIONS, DEPTH), flush=True)
        cpu0 = {d: cpu_seconds(d.proc.pid) for d in (a, b)}
        hist0 = {d: thread_cpu_seconds(d.proc.pid, "dg-history") for d in (a, b)}
        client0 = time.process_time()
        elapsed, lat, delivered, failed, errors = send_messages(a.socket_path, "bob@bench", N)
        client_cpu = time.process_time() - client0
        lat.sort()
        rate = N / elapsed if elapsed > 0 else float("inf")
        print("messages: %.0f msg/s (%d in %.2f s); delivered %d, failed %d, rpc errors %d"
              % (rate, N, elapsed, delivered, failed, errors))
        print("messages latency send->delivered: p50 %.2f ms, p99 %.2f ms, max %.2f ms"
              % (percentile(lat, 50) * 1e3, percentile(lat, 99) * 1e3,
                 (lat[-1] if lat else float("nan")) * 1e3))

        t_hist = time.monotonic()
        stored = wait_history(b, N)
        wait_history(a, N, "sent")  # alice stores what she sent: count its CPU to the end
        cpu = {d: cpu_seconds(d.proc.pid) - cpu0[d] for d in (a, b)}
        hist = {d: thread_cpu_seconds(d.proc.pid, "dg-history") - hist0[d] for d in (a, b)}
        print("cpu per message (send phase + history settling): alice %.1f us, bob %.1f us, "
              "bench client %.1f us (wall-clock rates depend on what else the machine runs)"
              % (cpu[a] / N * 1e6, cpu[b] / N * 1e6, client_cpu / N * 1e6))
        print("  of which the history writer threads (SQLite, FTS5): alice %.1f us, bob %.1f us"
              % (hist[a] / N * 1e6, hist[b] / N * 1e6))
        texts = distinct_received(b, tmp)
        distinct = len(texts & {TEXT % i for i in range(N)})
        print("history at bob: %d stored as received, %d distinct (lost %d, duplicates %d); "
              "settled %.1f s after the last answer"
              % (stored, distinct, N - distinct, stored - distinct, time.monotonic() - t_hist))
        for name, d in (("alice", a), ("bob", b)):
            s = d.result("ipmsg.stats")
            h = d.result("history.stats")
            keys = ("rx_packets", "tx_packets", "tx_errors", "retries", "duplicates",
                    "acks_sent", "events_deferred")
            print("counters %s: ipmsg %s; history events %s, commits %s, rows_lost %s"
                  % (name, " ".join("%s=%s" % (k, s.get(k)) for k in keys if k in s),
                     json.dumps(h.get("events")), h.get("commits"), h.get("rows_lost")))

        for d in daemons:
            rc = d.stop()
            if rc != 0:
                print("warning: dengond exited with %s:\n%s" % (rc, d.stderr_text()[-2000:]))
        daemons = []

        b_elapsed, b_lat, resent = raw_baseline(BASELINE_N, in_flight)
        b_lat.sort()
        b_rate = BASELINE_N / b_elapsed if b_elapsed > 0 else float("inf")
        print("baseline raw UDP request/ack (Python, %d in flight): %.0f req/s (%d in %.2f s), "
              "p50 %.2f ms, p99 %.2f ms, resent %d"
              % (in_flight, b_rate, BASELINE_N, b_elapsed, percentile(b_lat, 50) * 1e3,
                 percentile(b_lat, 99) * 1e3, resent))
        print("summary: %.0f msg/s = %.2f x baseline; lost %d; targets >= 20000 msg/s, "
              ">= 0.50 x baseline, 0 lost" % (rate, rate / b_rate, N - distinct))
        # What 0.5 x baseline would leave per message on this machine's cores,
        # beside what one message costs now (both daemons and the client).
        cores = len(os.sched_getaffinity(0))
        total_us = (cpu[a] + cpu[b] + client_cpu) / N * 1e6
        print("cpu budget: 0.50 x baseline = %.0f msg/s leaves %.1f us of CPU per message on %d "
              "cores; one message costs %.1f us now (history writers alone %.1f us)"
              % (b_rate / 2, cores / (b_rate / 2) * 1e6, cores, total_us,
                 (hist[a] + hist[b]) / N * 1e6))
        if ENCRYPTED_N > 0:
            encrypted_run(tmp)
    finally:
        for d in daemons:
            d.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
