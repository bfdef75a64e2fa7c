"""End-to-end tests of the files plugin (docs/protocol/files-plugin.md): two
real dengond on 127.0.0.2 and 127.0.0.3 with static host lists, and raw
IPMsg peers written in Python (UDP offers, a TCP server feeding a hostile
directory stream) on 127.0.0.5. Traffic stays on 127.0.0.x; every daemon is
stopped by PID even when a test fails (DaemonTestCase).
"""
import os
import socket
import subprocess
import threading
import time
import unittest

from dgtest import BUILD_DIR, DaemonTestCase, SLOW, free_port, sha256_file, wait_until

PLUGINS = os.path.join(BUILD_DIR, "lib", "dengon", "plugins")
SENDMSG, RECVMSG, GETFILEDATA, GETDIRFILES, ANSENTRY, BR_ENTRY = 0x20, 0x21, 0x60, 0x62, 3, 1
SENDCHECKOPT, FILEATTACHOPT, UTF8OPT, CAPUTF8OPT = 0x100, 0x200000, 0x800000, 0x1000000


def tree(root):
    """{relative path: (kind, size, mtime, sha)} of a folder."""
    out = {}
    for dirpath, dirs, files in os.walk(root):
        for d in dirs:
            p = os.path.join(dirpath, d)
            out[os.path.relpath(p, root)] = ("dir", 0, int(os.stat(p).st_mtime), None)
        for f in files:
            p = os.path.join(dirpath, f)
            st = os.stat(p)
            out[os.path.relpath(p, root)] = ("file", st.st_size, int(st.st_mtime), sha256_file(p))
    return out


class FilesTestCase(DaemonTestCase):
    def setUp(self):
        super().setUp()
        self.port = free_port(("127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"), tcp=True)

    def node(self, name, addr, peers=(), options=(), daemon=None):
        opts = [
            "ipmsg.bind_address=" + addr,
            "ipmsg.port=%d" % self.port,
            "identity.user=" + name,
            "identity.host=test",
            "ipmsg.hosts=" + ",".join("%s:%d" % (p, self.port) for p in peers),
            "ipmsg.announce_interval_s=0",
        ] + list(options)
        d = daemon or self.daemon(name, plugin_dirs=[PLUGINS], options=opts)
        d.start()
        self.assertEqual(d.plugins()["files"]["state"], "active", d.plugins())
        return d

    def pair(self, **kw):
        a = self.node("alice", "127.0.0.2", ["127.0.0.3"])
        b = self.node("bob", "127.0.0.3", ["127.0.0.2"], **kw)
        wait_until(lambda: any(p["key"] == "bob@test" for p in a.result("ipmsg.peers")),
                   timeout=10 * SLOW, what="alice sees bob")
        wait_until(lambda: any(p["key"] == "alice@test" for p in b.result("ipmsg.peers")),
                   timeout=10 * SLOW, what="bob sees alice")
        return a, b

    def offer_at(self, d, pkt):
        return wait_until(lambda: [o for o in d.result("files.list")["offers"]
                                   if o["packet_no"] == pkt], timeout=10 * SLOW,
                          what="offer %d" % pkt)[0]

    def wait_state(self, d, oid, states=("done",), timeout=60):
        def st():
            o = [o for o in d.result("files.list")["offers"] if o["id"] == oid][0]
            return o if o["state"] in states else None
        return wait_until(st, timeout=timeout * SLOW, interval=0.05, what="offer %d state" % oid)

    def src(self, *parts):
        p = os.path.join(self.tmp, "src", *parts)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        return p

    def downloads(self, d):
        return os.path.join(d.home, "data", "downloads")

    def sparse(self, name, size):
        """A sparse file with random first and last MiB (fast to serve)."""
        path = self.src(name)
        with open(path, "wb") as out:
            out.write(os.urandom(1 << 20))
            out.seek(size - (1 << 20))
            out.write(os.urandom(1 << 20))
        return path

    def events(self, d, pattern):
        return [e["payload"] for e in
                d.result("core.events", {"pattern": pattern, "after": 0, "limit": 10000})["events"]]

    def under_way(self, part, at_least=16 << 20):
        wait_until(lambda: os.path.exists(part) and os.path.getsize(part) > at_least,
                   timeout=30 * SLOW, interval=0.005, what="transfer under way")


class TestTransfers(FilesTestCase):
    def test_file_and_folder(self):
        a, b = self.pair()
        # A single file, byte-identical with its mtime.
        f = self.src("report.bin")
        with open(f, "wb") as out:
            out.write(os.urandom(3 * 1024 * 1024 + 17))
        os.utime(f, (1600000000, 1600000000))
        # A nested folder: empty file, empty folder, Unicode names, mtimes.
        root = self.src("Fotos 写真")
        os.makedirs(os.path.join(root, "sub", "空のフォルダ"))
        with open(os.path.join(root, "sub", "empty.txt"), "w"):
            pass
        with open(os.path.join(root, "résumé ✓.txt"), "w") as out:
            out.write("bonjour\n" * 1000)
        os.symlink("/etc/passwd", os.path.join(root, "link"))  # not followed, not sent
        for dirpath, dirs, files in os.walk(root, topdown=False):
            for n in files:
                if n != "link":
                    os.utime(os.path.join(dirpath, n), (1500000000, 1500000000))
            os.utime(dirpath, (1400000000, 1400000000))
        sent = a.result("files.send", {"to": "bob", "paths": [f, root], "text": "here"})
        self.assertEqual([x["type"] for x in sent["files"]], ["file", "dir"])
        offer = self.offer_at(b, sent["id"])
        self.assertEqual(offer["state"], "offered")
        self.assertEqual(offer["text"], "here")
        b.result("files.accept", {"id": offer["id"]})
        done = self.wait_state(b, offer["id"], ("done", "failed"))
        self.assertEqual(done["state"], "done", done)
        dl = self.downloads(b)
        self.assertEqual(sha256_file(os.path.join(dl, "report.bin")), sha256_file(f))
        self.assertEqual(int(os.stat(os.path.join(dl, "report.bin")).st_mtime), 1600000000)
        want = {k: v for k, v in tree(root).items() if k != "link"}
        self.assertEqual(tree(os.path.join(dl, "Fotos 写真")), want)
        self.assertEqual(int(os.stat(os.path.join(dl, "Fotos 写真")).st_mtime), 1400000000)
        self.assertFalse([n for n in os.listdir(dl) if n.endswith(".part")])
        # Each file once per recipient: the share is gone once everything was fetched.
        wait_until(lambda: a.result("files.list")["shares"] == [], what="share dropped")
        # The same offer accepted again is refused, nothing is overwritten.
        self.assertIn("error", b.call("files.accept", {"id": offer["id"]}))
        self.assert_clean_exit(b)
        self.assert_clean_exit(a)

    def test_thousand_files_to_dir_reject_and_refusal(self):
        a, b = self.pair()
        root = self.src("many")
        os.makedirs(root)
        for i in range(1000):
            with open(os.path.join(root, "f%04d.txt" % i), "w") as out:
                out.write("x" * (i % 50))
        sent = a.result("files.send", {"to": ["bob@test"], "paths": [root]})
        offer = self.offer_at(b, sent["id"])
        target = os.path.join(self.tmp, "chosen")
        os.makedirs(target)
        b.result("files.accept", {"id": offer["id"], "to": target})
        self.assertEqual(self.wait_state(b, offer["id"], ("done", "failed"))["state"], "done")
        self.assertEqual(tree(os.path.join(target, "many")), tree(root))

        # Reject: RELEASEFILES drops the sender's share.
        f = self.src("nope.txt")
        with open(f, "w") as out:
            out.write("no")
        sent = a.result("files.send", {"to": "bob", "paths": [f]})
        offer = self.offer_at(b, sent["id"])
        self.assertTrue([s for s in a.result("files.list")["shares"] if s["id"] == sent["id"]])
        b.result("files.reject", {"id": offer["id"]})
        wait_until(lambda: not [s for s in a.result("files.list")["shares"]
                                if s["id"] == sent["id"]], what="share released")
        self.assertEqual(self.wait_state(b, offer["id"], ("rejected",))["state"], "rejected")

        # A request from an address that is not a recipient gets nothing.
        sent = a.result("files.send", {"to": "bob", "paths": [f]})
        req = b"1:99:mallory:evil:%d:%x:0:0:\0" % (GETFILEDATA, sent["id"])
        with socket.socket() as s:
            s.bind(("127.0.0.4", 0))
            s.settimeout(5 * SLOW)
            s.connect(("127.0.0.2", self.port))
            s.sendall(req)
            self.assertEqual(s.recv(100), b"")
        # From bob's address the same request is served.
        with socket.socket() as s:
            s.bind(("127.0.0.3", 0))
            s.settimeout(5 * SLOW)
            s.connect(("127.0.0.2", self.port))
            s.sendall(req)
            self.assertEqual(s.recv(100), b"no")
        # Limits: blocked extensions are refused with a reason.
        a.result("config.set", {"key": "files.blocked_extensions", "value": "txt,exe"})
        err = a.call("files.send", {"to": "bob", "paths": [f]})["error"]["message"]
        self.assertIn("blocked", err)
        self.assert_clean_exit(b)
        self.assert_clean_exit(a)

    def test_resume_after_kill(self):
        a, b = self.pair()
        big = self.src("big.img")
        size = 2 * 1024 * 1024 * 1024
        with open(big, "wb") as out:
            out.write(os.urandom(1 << 20))
            out.seek(size - (1 << 20))
            out.write(os.urandom(1 << 20))
        sent = a.result("files.send", {"to": "bob", "paths": [big]})
        offer = self.offer_at(b, sent["id"])
        b.result("files.accept", {"id": offer["id"]})
        part = os.path.join(self.downloads(b), "big.img.part")
        wait_until(lambda: os.path.exists(part) and os.path.getsize(part) > (16 << 20),
                   timeout=30 * SLOW, interval=0.005, what="transfer under way")
        b.kill()  # SIGKILL mid-transfer
        got = os.path.getsize(part)
        self.assertLess(got, size)
        b2 = self.node("bob", "127.0.0.3", ["127.0.0.2"], daemon=b)
        done = self.wait_state(b2, offer["id"], ("done", "failed"), timeout=120)
        self.assertEqual(done["state"], "done", done)
        final = os.path.join(self.downloads(b2), "big.img")
        self.assertEqual(os.path.getsize(final), size)
        self.assertEqual(sha256_file(final), sha256_file(big))
        self.assert_clean_exit(b2)
        self.assert_clean_exit(a)


class TestResumeCancel(FilesTestCase):
    def test_resume_after_sender_kill(self):
        a, b = self.pair()
        size = 2 * 1024 * 1024 * 1024
        big = self.sparse("big.img", size)
        sent = a.result("files.send", {"to": "bob", "paths": [big]})
        offer = self.offer_at(b, sent["id"])
        b.result("files.accept", {"id": offer["id"]})
        part = os.path.join(self.downloads(b), "big.img.part")
        self.under_way(part)
        a.kill()  # SIGKILL of the sender mid-transfer
        failed = self.wait_state(b, offer["id"], ("failed", "done"))
        self.assertEqual(failed["state"], "failed", failed)
        self.assertIn("connection lost", failed["error"])
        got = os.path.getsize(part)
        self.assertLess(got, size)
        # The restarted sender still serves the offer (recorded in its store),
        # and accepting again resumes from the .part size.
        a2 = self.node("alice", "127.0.0.2", ["127.0.0.3"], daemon=a)
        self.assertEqual([s["id"] for s in a2.result("files.list")["shares"]], [sent["id"]])
        b.result("files.accept", {"id": offer["id"]})
        done = self.wait_state(b, offer["id"], ("done", "failed"), timeout=120)
        self.assertEqual(done["state"], "done", done)
        final = os.path.join(self.downloads(b), "big.img")
        self.assertEqual(sha256_file(final), sha256_file(big))
        served = wait_until(lambda: self.events(a2, "files.sent"), what="files.sent")
        self.assertEqual(served[-1]["bytes"], size - got)  # only the rest crossed the wire
        self.assert_clean_exit(b)
        self.assert_clean_exit(a2)

    def test_cancel_from_either_side(self):
        a, b = self.pair()
        size = 2 * 1024 * 1024 * 1024
        big = self.sparse("big.img", size)
        # The receiver cancels: state "cancelled", the .part is kept, accept resumes.
        sent = a.result("files.send", {"to": "bob", "paths": [big]})
        offer = self.offer_at(b, sent["id"])
        b.result("files.accept", {"id": offer["id"]})
        part = os.path.join(self.downloads(b), "big.img.part")
        self.under_way(part)
        b.result("files.cancel", {"id": offer["id"]})
        st = self.wait_state(b, offer["id"], ("cancelled", "done", "failed"))
        self.assertEqual(st["state"], "cancelled", st)
        self.assertLess(os.path.getsize(part), size)
        self.assertIn("error", b.call("files.cancel", {"id": offer["id"]}))
        b.result("files.accept", {"id": offer["id"]})
        self.assertEqual(self.wait_state(b, offer["id"], ("done", "failed"),
                                         timeout=120)["state"], "done")
        self.assertEqual(sha256_file(os.path.join(self.downloads(b), "big.img")), sha256_file(big))

        # The sender cancels its offer while the transfer runs: the connection
        # is closed, the receiver's download fails with what arrived kept, and
        # the offer can no longer be fetched.
        sent = a.result("files.send", {"to": "bob", "paths": [big]})
        offer = self.offer_at(b, sent["id"])
        b.result("files.accept", {"id": offer["id"]})
        part = os.path.join(self.downloads(b), "big.img.part")  # the first is renamed
        self.under_way(part)
        r = a.result("files.cancel", {"share": sent["id"]})
        self.assertEqual(r, {"share": sent["id"], "stopped": 1})
        st = self.wait_state(b, offer["id"], ("failed", "done"))
        self.assertEqual(st["state"], "failed", st)
        kept = os.path.getsize(part)
        self.assertGreater(kept, 0)
        self.assertLess(kept, size)
        self.assertEqual(a.result("files.list")["shares"], [])
        fails = wait_until(lambda: [e for e in self.events(a, "files.send_failed")
                                    if e["id"] == sent["id"]], what="send_failed")
        self.assertEqual([e["reason"] for e in fails], ["cancelled by the sender (files.cancel)"])
        b.result("files.accept", {"id": offer["id"]})  # refused by the sender now
        self.assertEqual(self.wait_state(b, offer["id"], ("failed", "done"))["state"], "failed")
        self.assertEqual(os.path.getsize(part), kept)
        self.assertIn("error", a.call("files.cancel", {"share": sent["id"]}))
        self.assert_clean_exit(b)
        self.assert_clean_exit(a)

    def test_folder_resumes_into_same_folder(self):
        a, b = self.pair()
        root = self.src("album")
        os.makedirs(os.path.join(root, "sub"))
        for name in ("a.txt", os.path.join("sub", "c.txt")):
            with open(os.path.join(root, name), "wb") as out:
                out.write(os.urandom(200000))
        size = 1536 * 1024 * 1024
        with open(os.path.join(root, "sub", "big.img"), "wb") as out:
            out.write(os.urandom(1 << 20))
            out.seek(size - (1 << 20))
            out.write(os.urandom(1 << 20))
        for dirpath, dirs, files in os.walk(root, topdown=False):
            for n in files:
                os.utime(os.path.join(dirpath, n), (1500000000, 1500000000))
            os.utime(dirpath, (1400000000, 1400000000))
        sent = a.result("files.send", {"to": "bob", "paths": [root]})
        offer = self.offer_at(b, sent["id"])
        b.result("files.accept", {"id": offer["id"]})
        part = os.path.join(self.downloads(b), "album", "sub", "big.img.part")
        self.under_way(part)
        b.kill()  # SIGKILL of the receiver mid-folder
        got = os.path.getsize(part)
        b2 = self.node("bob", "127.0.0.3", ["127.0.0.2"], daemon=b)
        done = self.wait_state(b2, offer["id"], ("done", "failed"), timeout=120)
        self.assertEqual(done["state"], "done", done)
        dl = self.downloads(b2)
        # Into the same folder: no "album (1)", no .part left, identical with mtimes.
        self.assertEqual(os.listdir(dl), ["album"])
        self.assertEqual(tree(os.path.join(dl, "album")), tree(root))
        self.assertGreater(got, 0)
        self.assert_clean_exit(b2)
        self.assert_clean_exit(a)

    def test_disk_full(self):
        if os.geteuid() != 0:
            self.skipTest("mounting a small tmpfs needs root: disk-full test not run")
        a, b = self.pair()
        src = self.src("big.bin")
        with open(src, "wb") as out:
            out.write(os.urandom(20 * 1024 * 1024))
        small = os.path.join(self.tmp, "small-disk")
        os.makedirs(small)
        mounted = False
        try:
            r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", small],
                               capture_output=True, text=True)
            if r.returncode != 0:
                self.skipTest("cannot mount a tmpfs here (%s): disk-full test not run"
                              % r.stderr.strip())
            mounted = True
            sent = a.result("files.send", {"to": "bob", "paths": [src]})
            offer = self.offer_at(b, sent["id"])
            b.result("files.accept", {"id": offer["id"], "to": small})
            st = self.wait_state(b, offer["id"], ("failed", "done"))
            self.assertEqual(st["state"], "failed", st)
            self.assertIn("disk full", st["error"])
            ev = [e for e in self.events(b, "files.failed") if e["id"] == offer["id"]]
            self.assertIn("disk full", ev[-1]["reason"])
            part = os.path.join(small, "big.bin.part")
            self.assertGreater(os.path.getsize(part), 4 * 1024 * 1024)  # what arrived is kept
            with open(src, "rb") as f:
                head = f.read(os.path.getsize(part))
            with open(part, "rb") as f:
                self.assertEqual(f.read(), head)
            self.assertFalse(os.path.exists(os.path.join(small, "big.bin")))
            self.assert_clean_exit(b)
            self.assert_clean_exit(a)
        finally:
            if mounted:
                subprocess.run(["umount", "-l", small], check=False)
            os.rmdir(small)


class TestCli(FilesTestCase):
    def test_cli(self):
        a, b = self.pair()
        f = self.src("note.txt")
        with open(f, "w") as out:
            out.write("hello")
        for cmd in ("send-file", "files", "accept", "reject", "cancel"):
            r = a.cli(cmd, "--help")
            self.assertEqual(r.rc, 0, r)
            self.assertIn("Calls ", r.out)
        cwd = os.getcwd()
        os.chdir(os.path.dirname(f))  # a relative path is made absolute by the CLI
        try:
            r = a.cli("send-file", "bob", "note.txt", "--text", "for you", json_out=True)
        finally:
            os.chdir(cwd)
        self.assertEqual(r.rc, 0, r)
        pkt = r.json()["id"]
        offer = self.offer_at(b, pkt)
        r = b.cli("files")
        self.assertEqual(r.rc, 0, r)
        self.assertIn("offered", r.out)
        self.assertIn("note.txt", r.out)
        target = os.path.join(self.tmp, "into")
        os.makedirs(target)
        r = b.cli("accept", str(offer["id"]), "--to", target)
        self.assertEqual(r.rc, 0, r)
        self.wait_state(b, offer["id"])
        with open(os.path.join(target, "note.txt")) as got:
            self.assertEqual(got.read(), "hello")
        pkt = a.cli("send-file", "bob", f, json_out=True).json()["id"]
        offer = self.offer_at(b, pkt)
        r = b.cli("reject", str(offer["id"]), json_out=True)
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(r.json()["id"], offer["id"])
        r = b.cli("reject", str(offer["id"]))
        self.assertNotEqual(r.rc, 0)
        files = b.cli("files", json_out=True).json()
        self.assertEqual({o["state"] for o in files["offers"]}, {"done", "rejected"})

        # accept --wait: plain progress lines (not a terminal), then the end.
        big = self.src("wait.bin")
        with open(big, "wb") as out:
            out.write(os.urandom(64 * 1024 * 1024))
        pkt = a.cli("send-file", "bob", big, json_out=True).json()["id"]
        offer = self.offer_at(b, pkt)
        r = b.cli("accept", str(offer["id"]), "--wait", timeout=120 * SLOW)
        self.assertEqual(r.rc, 0, r)
        self.assertIn("offer %d done" % offer["id"], r.out)
        self.assertEqual(sha256_file(os.path.join(self.downloads(b), "wait.bin")), sha256_file(big))
        # --json: only the final state.
        pkt = a.cli("send-file", "bob", f, json_out=True).json()["id"]
        offer = self.offer_at(b, pkt)
        r = b.cli("accept", str(offer["id"]), "--wait", json_out=True, timeout=60 * SLOW)
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(r.json()["state"], "done")
        self.assertEqual(r.json()["id"], offer["id"])
        # cancel: a download that is not running fails; --share withdraws an offer.
        r = b.cli("cancel", str(offer["id"]))
        self.assertNotEqual(r.rc, 0)
        pkt = a.cli("send-file", "bob", f, json_out=True).json()["id"]
        r = a.cli("cancel", str(pkt), "--share", json_out=True)
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(r.json(), {"share": pkt, "stopped": 0})
        r = a.cli("cancel", str(pkt), "--share")
        self.assertNotEqual(r.rc, 0)
        self.assert_clean_exit(b)
        self.assert_clean_exit(a)


class RawPeer:
    """A scripted IPMsg peer on 127.0.0.5: UDP offers, and a TCP file server."""

    def __init__(self, port):
        self.port = port
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.5", port))
        self.udp.settimeout(0.2)
        self.tcp = socket.socket()
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind(("127.0.0.5", port))
        self.tcp.listen(8)
        self.no = 7000
        self.stream = b""
        self.requests = []
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while True:
            try:
                c, _ = self.tcp.accept()
            except OSError:
                return
            with c:
                self.requests.append(c.recv(4096))
                c.sendall(self.stream)

    def close(self):
        self.udp.close()
        self.tcp.close()

    def offer(self, to, attach):
        self.no += 1
        head = b"1:%d:raw:peer:%d:hostile\0" % (self.no, SENDMSG | SENDCHECKOPT | FILEATTACHOPT
                                                | UTF8OPT)
        self.udp.sendto(head + attach + b"\0", (to, self.port))
        return self.no


def dirhdr(name, size, attr, mtime=1500000000):
    body = b":%s:%x:%x:14=%x:" % (name.replace(b":", b"::"), size, attr, mtime)
    return b"%04x" % (len(body) + 4) + body


class TestHostile(FilesTestCase):
    def test_hostile_names(self):
        b = self.node("bob", "127.0.0.3", ["127.0.0.5"])
        peer = RawPeer(self.port)
        self.addCleanup(peer.close)
        dl = self.downloads(b)
        # With the files plugin our entry answer invites offers (FILEATTACHOPT).
        peer.udp.sendto(b"1:1:raw:peer:%d:Raw\0\0" % (BR_ENTRY | CAPUTF8OPT),
                        ("127.0.0.3", self.port))
        deadline = time.monotonic() + 5 * SLOW
        ans = None
        while ans is None and time.monotonic() < deadline:
            try:
                data = peer.udp.recv(65536)
            except socket.timeout:
                continue
            cmd = int(data.split(b":")[4])
            if cmd & 0xFF == ANSENTRY:
                ans = cmd
        self.assertTrue(ans and ans & FILEATTACHOPT, ans)
        names = [b"../x", b"/etc/x", b"a/../../x", b"ctl\x01\x1b[31m.txt", b"ok.txt",
                 b"CON.txt", "é" .encode() * 300 + b".txt"]
        attach = b"".join(b"%d:%s:3:5f5e1000:1:\a" % (i, n.replace(b":", b"::"))
                          for i, n in enumerate(names))
        no = peer.offer("127.0.0.3", attach)
        offer = self.offer_at(b, no)
        peer.stream = b"abc"
        b.result("files.accept", {"id": offer["id"]})
        self.wait_state(b, offer["id"], ("done", "failed"))
        stored = sorted(os.listdir(dl))
        for n in stored:
            self.assertNotIn("/", n)
            self.assertLessEqual(len(n.encode()), 255)
            self.assertFalse(any(ord(ch) < 32 for ch in n), n)
        self.assertIn("ok.txt", stored)
        self.assertIn("_CON.txt", stored)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "bob", "data", "x")))
        self.assertFalse(os.path.exists(os.path.join(b.home, "x")))
        # Requests carried the right packet number.
        self.assertTrue(all(b":%x:" % no in r for r in peer.requests), peer.requests)

        # A 4 KB name: the whole list is refused (no offer stored), nothing written.
        before = len(b.result("files.list")["offers"])
        peer.offer("127.0.0.3", b"0:" + b"n" * 4096 + b":3:5f5e1000:1:\a")
        time.sleep(0.5 * SLOW)
        self.assertEqual(len(b.result("files.list")["offers"]), before)

        # A hostile directory stream: traversal, separators, control bytes, a long name.
        stream = (dirhdr(b"top", 0, 2) + dirhdr(b"../evil", 3, 1) + b"bad" +
                  dirhdr(b"a/b", 3, 1) + b"bad" + dirhdr(b"..", 0, 2) + dirhdr(b"x", 1, 1) +
                  b"z" + dirhdr(b".", 0, 3) + dirhdr(b"c\x07tl", 2, 1) + b"ok" +
                  dirhdr(b"L" * 4000, 2, 1) + b"ok" + dirhdr(b"link", 0, 4) +
                  dirhdr(b".", 0, 3))
        peer.stream = stream
        no = peer.offer("127.0.0.3", b"0:top:0:5f5e1000:2:\a")
        offer = self.offer_at(b, no)
        b.result("files.accept", {"id": offer["id"]})
        self.assertEqual(self.wait_state(b, offer["id"], ("done", "failed"))["state"], "done")
        top = tree(os.path.join(dl, "top"))
        self.assertEqual(sorted(top), sorted(["c_tl", "L" * 255]), top)
        self.assertFalse(os.path.exists(os.path.join(b.home, "data", "evil")))
        self.assertFalse(os.path.exists(os.path.join(dl, "evil")))
        self.assert_clean_exit(b)


if __name__ == "__main__":
    unittest.main()
