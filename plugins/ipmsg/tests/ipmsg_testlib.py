"""Shared helpers of the ipmsg discovery, absence, broadcast and golden tests.

Real dengond processes (dgtest.Daemon) and scripted IPMsg peers written in
Python, all on 127.0.0.x loopback addresses: a daemon bound to a loopback
address sends no broadcasts (plugins/ipmsg/src/net.c), so nothing leaves the
machine. Each test picks a UDP port that is free on every address it may
use (pick_port), so that test modules, and whole test runs of other build
trees, can run at the same time without two daemons sharing an address:port.
"""
import os
import random
import socket
import time

from dgtest import BUILD_DIR, SLOW, DaemonTestCase, wait_until

PLUGINS = os.path.join(BUILD_DIR, "lib", "dengon", "plugins")
TEST_PLUGINS = os.path.join(BUILD_DIR, "tests", "ipmsg-plugins")

NOOPERATION, BR_ENTRY, BR_EXIT, ANSENTRY, BR_ABSENCE = 0x00, 0x01, 0x02, 0x03, 0x04
BR_ISGETLIST, OKGETLIST, GETLIST, ANSLIST, BR_ISGETLIST2 = 0x10, 0x11, 0x12, 0x13, 0x18
SENDMSG, RECVMSG, READMSG, ANSREADMSG = 0x20, 0x21, 0x30, 0x32
GETINFO, SENDINFO, GETABSENCEINFO, SENDABSENCEINFO = 0x40, 0x41, 0x50, 0x51

ABSENCEOPT = SENDCHECKOPT = 0x100
SECRETOPT, BROADCASTOPT, MULTICASTOPT = 0x200, 0x400, 0x800
AUTORETOPT, RETRYOPT, NOADDLISTOPT = 0x2000, 0x4000, 0x80000
DIALUPOPT, READCHECKOPT, FILEATTACHOPT = 0x10000, 0x100000, 0x200000
ENCRYPTOPT, UTF8OPT, CAPUTF8OPT = 0x400000, 0x800000, 0x1000000
CAPIPDICTOPT, ENCEXTMSGOPT, CLIPBOARDOPT = 0x2000000, 0x4000000, 0x8000000


def packet(no, user, host, cmd, extra=b"", tail=b"", nul=True):
    """1:no:user:host:cmd:extra\\0tail -- the classic datagram (§1.2)."""
    if isinstance(extra, str):
        extra = extra.encode()
    head = b"1:%d:%s:%s:%d:" % (no, user.encode(), host.encode(), cmd)
    return head + extra + (b"\0" if nul else b"") + tail


class Packet:
    """One received datagram, split like the codec does (no decoding)."""

    def __init__(self, data, addr):
        self.raw, self.addr = data, addr
        head, _, self.tail = data.partition(b"\0")
        parts = head.split(b":", 5)
        self.no = int(parts[1])
        self.user, self.host = parts[2], parts[3]
        self.cmd = int(parts[4])
        self.mode, self.opts = self.cmd & 0xFF, self.cmd & ~0xFF
        self.extra = parts[5]

    def __repr__(self):
        return "Packet(%r from %s)" % (self.raw[:120], self.addr)


class RawPeer:
    """A scripted IPMsg client on its own loopback address and the test's port."""

    def __init__(self, addr, port, user="raw", host="script"):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind((addr, port))
        self.sock.settimeout(0.1)
        self.addr, self.port = addr, port
        self.user, self.host = user, host
        self.no = 5000

    def close(self):
        self.sock.close()

    def send(self, to, data):
        self.sock.sendto(data, (to, self.port))

    def packet(self, cmd, extra=b"", tail=b"", no=None, user=None):
        self.no += 1
        return packet(no or self.no, user or self.user, self.host, cmd, extra, tail)

    def entry(self, to, nick, cmd=BR_ENTRY | CAPUTF8OPT, user=None, group=""):
        user = user or self.user
        block = "\nUN:%s\nHN:%s\nNN:%s\nGN:%s" % (user, self.host, nick, group)
        legacy = nick.encode("cp932", "replace") + b"\0" + group.encode("cp932", "replace")
        self.send(to, self.packet(cmd, legacy, b"\0" + block.encode(), user=user))

    def drain(self):
        self.sock.settimeout(0)
        try:
            while True:
                self.sock.recvfrom(65536)
        except (BlockingIOError, socket.timeout):
            pass
        finally:
            self.sock.settimeout(0.1)

    def recv_all(self, seconds=1.0):
        got, deadline = [], time.monotonic() + seconds * SLOW
        while time.monotonic() < deadline:
            try:
                data, a = self.sock.recvfrom(65536)
                got.append(Packet(data, a))
            except socket.timeout:
                pass
        return got

    def wait_for(self, mode, seconds=5.0, pred=None):
        """The next packet with this command (and pred), skipping others."""
        deadline = time.monotonic() + seconds * SLOW
        while time.monotonic() < deadline:
            try:
                data, a = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            p = Packet(data, a)
            if p.mode == mode and (pred is None or pred(p)):
                return p
        raise AssertionError("no packet with command 0x%x at %s" % (mode, self.addr))


def pick_port(hosts=range(2, 10)):
    """A UDP port nobody has bound on 127.0.0.2-9 (checked by binding it there)."""
    for _ in range(500):
        port = random.randrange(24300, 29000)
        socks = []
        try:
            for h in hosts:
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(s)
                s.bind(("127.0.0.%d" % h, port))
            return port
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise AssertionError("no free UDP port on 127.0.0.2-9")


class NodeTestCase(DaemonTestCase):
    """Daemons on 127.0.0.x with static host lists, on a port picked per test."""

    def setUp(self):
        super().setUp()
        self.PORT = pick_port()

    def node(self, name, addr, peers=(), options=(), start=True, nickname=None, group=None,
             ini=()):
        """A daemon; options go on the command line (-o), ini lines ("ipmsg.x = y") in the
        user file, where config.set can still change them (the command line wins)."""
        opts = [
            "ipmsg.bind_address=" + addr,
            "ipmsg.port=%d" % self.PORT,
            "identity.user=" + name,
            "identity.host=test",
            "ipmsg.hosts=" + ",".join("%s:%d" % (p, self.PORT) for p in peers),
            "ipmsg.announce_interval_s=0",
            # The ipmsg plugin alone: the files plugin (staged beside it, on by
            # default) would add FILEATTACHOPT to every status word (files tests).
            "plugins.files.enabled=false",
            # and without encryption (the crypto plugin tests it): these check exact status words.
            "plugins.crypto.enabled=false",
        ] + list(options)
        d = self.daemon(name, plugin_dirs=[PLUGINS, TEST_PLUGINS], options=opts)
        # Names in the user file, not -o: config.set (user layer) can change them later.
        os.makedirs(os.path.join(d.home, "config"), exist_ok=True)
        with open(os.path.join(d.home, "config", "dengon.ini"), "w", encoding="utf-8") as f:
            for line in ini:
                f.write(line + "\n")
            f.write("[identity]\nnickname = %s\n" % (nickname or name.capitalize()))
            if group:
                f.write("group = %s\n" % group)
        if start:
            d.start()
            self.assertEqual(d.plugins()["ipmsg"]["state"], "active", d.plugins())
        return d

    def raw_peer(self, addr, **kw):
        p = RawPeer(addr, self.PORT, **kw)
        self.addCleanup(p.close)
        return p

    def users(self, d):
        return {u["key"]: u for u in d.result("ipmsg.peers")}  # the live peer table

    def wait_user(self, d, key, status="online", timeout=10):
        return wait_until(lambda: self.users(d).get(key, {}).get("status") == status and
                          self.users(d)[key], timeout=timeout, what="%s %s" % (key, status))

    def events(self, d, topic=None):
        evs = d.result("evrec.events")
        return [e["payload"] for e in evs if topic is None or e["topic"] == topic]

    def inbox(self, d):
        return d.result("chat.inbox")["messages"]

    def stats(self, d):
        return d.result("ipmsg.stats")

    def discovery(self, d):
        return d.result("ipmsg.discovery")

    def cli(self, d, *args, **kw):
        r = d.cli(*args, **kw)
        self.assertNotIn("Sanitizer", r.err, r)
        self.assertNotIn("runtime error", r.err, r)
        return r
