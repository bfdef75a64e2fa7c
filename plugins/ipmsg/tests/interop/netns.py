"""Network namespaces for interop tests, and a packet capture inside one of them.

Two namespaces joined by one veth pair: the only link either side has, so every
broadcast the peers send (iptux sends BR_ENTRY to 255.255.255.255 and to the
subnet) stays between them. Needs root and `ip netns` (iproute2).
"""
import ctypes
import os
import socket
import struct
import subprocess
import threading
import time

CLONE_NEWNET = 0x40000000
ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800


def _ip(*args):
    r = subprocess.run(["ip"] + list(args), capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise OSError("ip %s: %s" % (" ".join(args), (r.stderr or r.stdout).strip()))
    return r.stdout


class Unavailable(OSError):
    """The system does not let this process create a network namespace."""


def unavailable():
    """Why namespaces cannot be used here, or None when they may be (see Unavailable)."""
    if os.geteuid() != 0:
        return "needs root to create network namespaces"
    try:
        _ip("netns", "list")
    except (OSError, subprocess.SubprocessError) as e:
        return "'ip netns' is unavailable: %s" % e
    return None


class Pair:
    """Namespaces <prefix>-a (10.x.0.1) and <prefix>-b (10.x.0.2) on one veth pair.

    create() may fail half-way; delete() removes whatever exists, so call it from a
    cleanup registered before create().
    """

    def __init__(self, prefix, subnet="10.213.7"):
        # A run killed before its cleanup (ctest timeout) leaves its namespaces behind;
        # a later run with the same PID picks other names instead of touching those.
        existing = set(_ip("netns", "list").split())
        base, n = prefix, 0
        while prefix + "-a" in existing or prefix + "-b" in existing:
            n += 1
            prefix = "%sx%d" % (base, n)
        self.ns = (prefix + "-a", prefix + "-b")
        tag = prefix[-11:]  # interface names are limited to 15 characters
        self.dev = ("v%sa" % tag, "v%sb" % tag)
        self.addr = (subnet + ".1", subnet + ".2")
        self.broadcast = subnet + ".255"
        self._created = []

    def create(self):
        for ns in self.ns:
            try:
                _ip("netns", "add", ns)
            except OSError as e:
                if not self._created:  # the very first one: no permission (container)
                    raise Unavailable(str(e))
                raise
            self._created.append(ns)
        _ip("link", "add", self.dev[0], "type", "veth", "peer", "name", self.dev[1])
        for ns, dev, addr in zip(self.ns, self.dev, self.addr):
            _ip("link", "set", dev, "netns", ns)
            _ip("-n", ns, "link", "set", "lo", "up")
            _ip("-n", ns, "addr", "add", addr + "/24", "broadcast", self.broadcast, "dev", dev)
            _ip("-n", ns, "link", "set", dev, "up")
            # 255.255.255.255 needs a route; the veth is the only way out anyway.
            _ip("-n", ns, "route", "add", "default", "dev", dev)
        # veth carrier comes up asynchronously; packets sent before it are lost.
        for ns, dev in zip(self.ns, self.dev):
            deadline = time.monotonic() + 10
            while "LOWER_UP" not in _ip("-n", ns, "link", "show", dev):
                if time.monotonic() > deadline:
                    raise OSError("%s in %s did not come up" % (dev, ns))
                time.sleep(0.05)

    def delete(self):
        """Removes the namespaces (the veth pair goes with them); errors are collected."""
        errors = []
        for ns in reversed(self._created):
            try:
                _ip("netns", "del", ns)
            except OSError as e:
                errors.append(str(e))
        self._created = []
        if errors:
            raise OSError("; ".join(errors))

    def exec_prefix(self, i):
        """argv prefix that runs a command inside namespace i (ip netns exec execs it: same PID)."""
        return ["ip", "netns", "exec", self.ns[i]]


class Capture:
    """Records every UDP datagram to or from `port` on a device inside a namespace.

    A thread enters the namespace (setns changes only the calling thread) and reads
    an AF_PACKET socket bound to the device, so it sees both directions as they were
    on the wire. Each record: (monotonic time, src ip, src port, dst ip, dst port, payload).
    """

    def __init__(self, ns, dev, port):
        self.ns, self.dev, self.port = ns, dev, port
        self.packets = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._error = None
        self._thread = threading.Thread(target=self._run, name="capture-" + ns, daemon=True)

    def start(self):
        self._thread.start()
        self._ready.wait(10)
        if self._error:
            raise self._error
        if not self._ready.is_set():
            raise OSError("capture in %s did not start" % self.ns)

    def stop(self):
        self._stop.set()
        self._thread.join(5)

    def _run(self):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = os.open("/run/netns/" + self.ns, os.O_RDONLY)
            try:
                if libc.setns(fd, CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "setns " + self.ns)
            finally:
                os.close(fd)
            sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
            sock.bind((self.dev, ETH_P_ALL))
            sock.settimeout(0.1)
        except OSError as e:
            self._error = e
            self._ready.set()
            return
        self._ready.set()
        with sock:
            while not self._stop.is_set():
                try:
                    frame, _ = sock.recvfrom(65536)
                except socket.timeout:
                    continue
                rec = self._udp(frame)
                if rec:
                    with self._lock:
                        self.packets.append((time.monotonic(),) + rec)

    def _udp(self, frame):
        if len(frame) < 14 + 20 + 8 or struct.unpack_from("!H", frame, 12)[0] != ETH_P_IP:
            return None
        ip = frame[14:]
        ihl = (ip[0] & 0x0F) * 4
        total, = struct.unpack_from("!H", ip, 2)
        if ip[9] != socket.IPPROTO_UDP or struct.unpack_from("!H", ip, 6)[0] & 0x3FFF:
            return None  # not UDP, or a fragment
        sport, dport, ulen = struct.unpack_from("!HHH", ip, ihl)
        if self.port not in (sport, dport):
            return None
        payload = ip[ihl + 8:min(total, ihl + ulen)]
        return (socket.inet_ntoa(ip[12:16]), sport, socket.inet_ntoa(ip[16:20]), dport, payload)

    def snapshot(self):
        with self._lock:
            return list(self.packets)

    def dump(self):
        """The capture as text lines, for a failing test's message."""
        t0 = self.packets[0][0] if self.packets else 0
        return "\n".join("%7.3f %s:%d > %s:%d %r" % (t - t0, s, sp, d, dp, p)
                         for t, s, sp, d, dp, p in self.snapshot())
