"""Files and folders between dengond and a real iptux (Debian's package), both ways.

Same layout as the ipmsg interop test (docs/protocol/iptux-interop-test.md,
helpers from plugins/ipmsg/tests/interop): two network namespaces created by
the test and joined by one veth pair, dengond with the files plugin in one
(10.213.7.1), Xvfb + the iptux GUI in the other (10.213.7.2). iptux has no
command line or D-Bus way to send or accept files, so its chat window is
driven through X11 XTEST (xclient.py), as a user would:

- dengon -> iptux: files.send offers a file and a folder with a text; the
  chat window iptux opens shows them under "Files to be received"; the test
  clicks Accept and saves into iptux's archive folder (Alt+S in "Please
  select a folder..."); iptux fetches them (GETFILEDATA, GETDIRFILES);
- iptux -> dengon: Ctrl+S ("Choose enclosure files") and Ctrl+D ("Choose
  enclosure folders") in that chat window, the path typed after Ctrl+L;
  dengon accepts the offers with files.accept.

Checked: byte-identical content, the tree of the folder, and mtimes as far as
each side carries them (see the test doc: iptux announces st_ctime as a
file's time, so only dengon -> iptux can keep an mtime that differs from the
ctime). Every process is stopped by PID and both namespaces are removed even
on failure. Needs root, `ip netns`, iptux, Xvfb and dbus-run-session;
skipped otherwise.
"""
import os
import struct
import sys
import time
import unittest
import zlib

from dgtest import BUILD_DIR, DENGOND, Daemon, DaemonTestCase, sha256_file, wait_until

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "ipmsg",
                                "tests", "interop"))
import netns  # noqa: E402
import xclient  # noqa: E402
from iptux_peer import Iptux, Xvfb, become_subreaper, ns_daemon_class, unavailable_reason  # noqa: E402

PORT = 2425  # iptux sends every reply to 2425, whatever the source port
PLUGINS = os.path.join(BUILD_DIR, "lib", "dengon", "plugins")
DENGON_NICK, DENGON_USER, DENGON_HOST = "dengon-files", "dengon-it", "interop"
IPTUX_NICK, IPTUX_GROUP = "iptux-files", "interop"
xclient.KEYSYMS.setdefault("Alt_L", 0xFFE9)
xclient.KEYSYMS.setdefault("Delete", 0xFFFF)


def tree(root, mtimes=True):
    """{relative path: (kind, size, mtime or None, sha)} of a folder."""
    out = {}
    for dirpath, dirs, files in os.walk(root):
        for d in dirs:
            p = os.path.join(dirpath, d)
            out[os.path.relpath(p, root)] = ("dir", 0, int(os.stat(p).st_mtime) if mtimes else None,
                                             None)
        for f in files:
            p = os.path.join(dirpath, f)
            st = os.stat(p)
            out[os.path.relpath(p, root)] = ("file", st.st_size,
                                             int(st.st_mtime) if mtimes else None, sha256_file(p))
    return out


def screenshot(x, path):
    """The whole Xvfb screen as a PNG (X11 GetImage, ZPixmap, 32 bits per pixel BGRX):
    with DENGON_ITX_SHOT=path, a failing run leaves what iptux showed."""
    r = x._request(73, 2, struct.pack("<IhhHHI", x.root, 0, 0, x.width, x.height, 0xFFFFFFFF))
    data, rows = r[32:], bytearray()
    for y in range(x.height):
        bgrx = data[y * x.width * 4:(y + 1) * x.width * 4]
        rgb = bytearray(x.width * 3)
        rgb[0::3], rgb[1::3], rgb[2::3] = bgrx[2::4], bgrx[1::4], bgrx[0::4]
        rows += b"\0" + rgb

    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", x.width, x.height,
                                                                  8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(bytes(rows))) + chunk(b"IEND", b""))


NsDaemon = ns_daemon_class(Daemon)


class TestIptuxFiles(DaemonTestCase):
    def setUp(self):
        reason = unavailable_reason(netns)
        if reason:
            self.skipTest("iptux interop: " + reason)
        if not os.access(DENGOND, os.X_OK):
            self.fail("no dengond at %s (DENGON_BUILD_DIR)" % DENGOND)
        become_subreaper()
        super().setUp()
        self.iptux = self.dengon = None

    def start_network(self):
        self.pair = netns.Pair("dgitf%d" % os.getpid())
        self.addCleanup(self.pair.delete)
        try:
            self.pair.create()
        except netns.Unavailable as e:
            self.skipTest("iptux interop: cannot create a network namespace: %s" % e)
        self.dg_addr, self.itx_addr = self.pair.addr

    def start_iptux(self):
        xvfb = Xvfb(self.pair.exec_prefix(1), os.path.join(self.tmp, "xvfb.log"))
        self.addCleanup(xvfb.stop)
        xvfb.start()
        self.iptux = Iptux(self.pair.exec_prefix(1), os.path.join(self.tmp, "iptux"), xvfb.number,
                           IPTUX_NICK, IPTUX_GROUP, dialup=self.dg_addr)
        self.addCleanup(self.iptux.stop)
        self.iptux.start()

    def start_dengon(self):
        opts = [
            "ipmsg.bind_address=" + self.dg_addr,
            "ipmsg.port=%d" % PORT,
            "ipmsg.hosts=" + self.itx_addr,
            "identity.user=" + DENGON_USER,
            "identity.host=" + DENGON_HOST,
            "identity.nickname=" + DENGON_NICK,
            "ipmsg.announce_interval_s=0",
            "files.download_dir=" + os.path.join(self.tmp, "dengon-dl"),
        ]
        d = NsDaemon(self.pair.exec_prefix(0), os.path.join(self.tmp, "dengon"),
                     plugin_dirs=[PLUGINS], options=opts)
        self.daemons.append(d)
        self.addCleanup(d.kill)  # before the namespaces go (cleanups run last-in first-out)
        d.start()
        self.assertEqual(d.plugins()["files"]["state"], "active", d.plugins())
        self.dengon = d
        return d

    def iptux_key(self):
        for p in self.dengon.result("ipmsg.peers"):
            if p.get("address") == "%s:%d" % (self.itx_addr, PORT):
                return p["key"]
        return None

    def src(self, *parts):
        p = os.path.join(self.tmp, "src", *parts)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        return p

    def diagnostics(self):
        parts = ["\n==== iptux files interop diagnostics ===="]
        if self.iptux:
            try:
                with self.iptux.x() as x:
                    parts.append("-- iptux windows: %r" % [t for _, t in x.toplevels()])
                    if os.environ.get("DENGON_ITX_SHOT"):
                        screenshot(x, os.environ["DENGON_ITX_SHOT"])
            except Exception as e:  # the display may be gone: the failure matters more
                parts.append("-- iptux windows: %s" % e)
            recv = os.path.join(self.iptux.home, "recv")
            parts.append("-- iptux's archive folder: %r" % (tree(recv) if os.path.isdir(recv)
                                                            else None))
            log = self.iptux.log()
            parts.append("-- iptux log, transfer lines --\n" + "\n".join(
                line for line in log.splitlines()
                if any(w in line for w in ("Recv", "Send", "File", "file", "trans"))))
            start = log.find("add trans task")
            parts.append("-- iptux log from the first transfer --\n" + (log[start:][:12000]
                                                                     if start >= 0 else ""))
        if self.dengon:
            parts.append("-- dengond log --\n" + self.dengon.log_text()[-8000:])
            parts.append("-- dengond stderr --\n" + self.dengon.stderr_text()[-4000:])
        return "\n".join(parts) + "\n"

    def test_files_and_folders_both_ways(self):
        try:
            self.scenario()
        except BaseException:
            enc = sys.stderr.encoding or "utf-8"
            sys.stderr.write(self.diagnostics().encode(enc, "backslashreplace").decode(enc))
            raise

    # -- GUI steps (iptux-interop.md §9) ---------------------------------------

    def chat_window(self, x, timeout=20):
        return x.find_window(lambda t: t.startswith("Talk with "), timeout=timeout)[0]

    def accept_in_iptux(self):
        """Accept in the "Files to be received" pane, then "_Save" in the folder dialog
        (it opens in iptux's archive_path)."""
        with self.iptux.x() as x:
            w = self.chat_window(x)
            _, _, width, _ = x.geometry(w)
            x.focus(w)
            x.click(w, width - 196, 77)
            d, _ = x.find_window(lambda t: t.startswith("Please select a folder"), timeout=15)
            time.sleep(0.5)  # the dialog lists the folder before it takes keys
            x.focus(d)
            x.key("Alt_L", "s")

    def offer_from_iptux(self, path, folder):
        """Ctrl+S / Ctrl+D in the chat window, the path typed after Ctrl+L, Return, then
        Send (Ctrl+Return) in the chat window."""
        with self.iptux.x() as x:
            w = self.chat_window(x)
            _, _, _, height = x.geometry(w)
            x.focus(w)
            x.click(w, 180, height - 150)  # focus the input view, not a button
            x.key("Control_L", "d" if folder else "s")
            title = "Choose enclosure folders" if folder else "Choose enclosure files"
            d, _ = x.find_window(lambda t: t.startswith(title), timeout=15)
            time.sleep(0.5)
            x.focus(d)
            x.key("Control_L", "l")
            time.sleep(0.3)
            x.type(path)
            time.sleep(0.5)
            if folder:
                # GTK completes a folder name with a selected "/": Return would then
                # open the folder and pick its first sub-folder. Delete drops it.
                x.key("Delete")
                time.sleep(0.3)
            x.key("Return")
            wait_until(lambda: not [t for _, t in x.toplevels() if t.startswith(title)],
                       timeout=15, what="the chooser closes")
            # Attached under "File to send"; Send (Ctrl+Return) offers it.
            time.sleep(0.3)
            x.focus(w)
            x.click(w, 180, height - 150)
            x.key("Control_L", "Return")

    # -- the scenario -----------------------------------------------------------

    def scenario(self):
        self.start_network()
        self.start_iptux()
        d = self.start_dengon()
        key = wait_until(self.iptux_key, timeout=15, what="iptux in dengon's peers")
        recv = os.path.join(self.iptux.home, "recv")

        # 1. dengon -> iptux: one file and one folder in one offer.
        f = self.src("report.bin")
        with open(f, "wb") as out:
            out.write(os.urandom(3 * 1024 * 1024 + 5))
        os.utime(f, (1600000000, 1600000000))
        album = self.src("album")
        os.makedirs(os.path.join(album, "sub", "empty"))
        for name, size in (("a.txt", 1000), (os.path.join("sub", "b.bin"), 700000),
                           (os.path.join("sub", "zero.txt"), 0)):
            with open(os.path.join(album, name), "wb") as out:
                out.write(os.urandom(size))
        for dirpath, dirs, files in os.walk(album, topdown=False):
            for n in files:
                os.utime(os.path.join(dirpath, n), (1500000000, 1500000000))
            os.utime(dirpath, (1400000000, 1400000000))
        # Debian 12's iptux (0.8.3+git20211122) overflows its stack on any folder it
        # receives whose directories do not exist yet (AnalogFS::mkdir calls itself:
        # upstream issue #472, fixed in 2025 by PR #656), from any sender. The empty
        # directories are made beforehand so that what is tested is iptux reading
        # dengon's GETDIRFILES stream: every file, its bytes and its mtime.
        for dirpath, dirs, files in os.walk(album):
            os.makedirs(os.path.join(recv, os.path.relpath(dirpath, self.src())), exist_ok=True)
        # One offer at a time: Debian 12's iptux crashes (SIGSEGV in
        # transModelUpdateFromTransFileModel, "got task id 2, but no info in CoreThread")
        # when two of its transfers end within milliseconds of each other.
        for path, size in ((f, 3 * 1024 * 1024 + 5), (album, 701000)):
            sent = d.result("files.send", {"to": key, "paths": [path], "text": "for iptux"})
            self.assertEqual([x["size"] for x in sent["files"]], [size])
            self.accept_in_iptux()
            wait_until(lambda: [e for e in self.events("files.sent") if e["id"] == sent["id"]],
                       timeout=30, what="iptux fetched " + os.path.basename(path))
        self.assertEqual(self.events("files.send_failed"), [])
        got = os.path.join(recv, "report.bin")
        self.assertEqual(sha256_file(got), sha256_file(f))
        self.assertEqual(int(os.stat(got).st_mtime), 1600000000)
        # iptux sets no folder mtimes (RecvFileData.cpp): files only.
        want = {k: v for k, v in tree(album).items() if v[0] == "file"}
        self.assertEqual({k: v for k, v in tree(os.path.join(recv, "album")).items()
                          if v[0] == "file"}, want)
        self.assertEqual(sorted(k for k, v in tree(os.path.join(recv, "album")).items()),
                         sorted(tree(album)))
        self.assertEqual(d.result("files.list")["shares"], [])

        # 2. iptux -> dengon: a file, then a folder.
        g = self.src("fromiptux.bin")
        with open(g, "wb") as out:
            out.write(os.urandom(2 * 1024 * 1024 + 3))
        os.utime(g, (1600000000, 1600000000))
        self.offer_from_iptux(g, folder=False)
        offer = self.offer_from(key, "fromiptux.bin")
        d.result("files.accept", {"id": offer["id"]})
        done = self.wait_state(offer["id"])
        self.assertEqual(done["state"], "done", done)
        dl = os.path.join(self.tmp, "dengon-dl")
        self.assertEqual(sha256_file(os.path.join(dl, "fromiptux.bin")), sha256_file(g))
        self.check_time(os.path.join(dl, "fromiptux.bin"), g, offer, "fromiptux.bin")

        tree_src = self.src("itxalbum")
        os.makedirs(os.path.join(tree_src, "deep", "er"))
        for name, size in (("x.txt", 1234), (os.path.join("deep", "y.bin"), 300000),
                           (os.path.join("deep", "er", "z.bin"), 5)):
            with open(os.path.join(tree_src, name), "wb") as out:
                out.write(os.urandom(size))
        for dirpath, dirs, files in os.walk(tree_src, topdown=False):
            for n in files:
                os.utime(os.path.join(dirpath, n), (1500000000, 1500000000))
            os.utime(dirpath, (1400000000, 1400000000))
        self.offer_from_iptux(tree_src, folder=True)
        offer = self.offer_from(key, "itxalbum")
        d.result("files.accept", {"id": offer["id"]})
        done = self.wait_state(offer["id"])
        self.assertEqual(done["state"], "done", done)
        self.compare_tree(os.path.join(dl, "itxalbum"), tree_src, "iptux -> dengon")
        self.assertEqual(int(os.stat(os.path.join(dl, "itxalbum")).st_mtime), 1400000000)
        self.assert_clean_exit(d)

    # -- helpers ------------------------------------------------------------------

    def events(self, pattern):
        return [e["payload"] for e in self.dengon.result(
            "core.events", {"pattern": pattern, "after": 0, "limit": 10000})["events"]]

    def offer_from(self, key, name):
        def find():
            for o in self.dengon.result("files.list")["offers"]:
                if o["from"] == key and o["state"] == "offered" and name in o["attachments"]:
                    return o
            return None
        return wait_until(find, timeout=20, what="iptux's offer of %s" % name)

    def wait_state(self, oid):
        def st():
            o = [o for o in self.dengon.result("files.list")["offers"] if o["id"] == oid][0]
            return o if o["state"] not in ("offered", "downloading") else None
        return wait_until(st, timeout=60, what="offer %d ends" % oid)

    def compare_tree(self, got, want, what):
        self.assertEqual(tree(got), tree(want), what)

    def check_time(self, got, src, offer, name):
        """iptux announces a file's st_ctime, not its mtime, in its offer (the time
        field of its attach list, Command.cpp); dengon keeps what is announced."""
        fields = offer["attachments"].split(":")
        announced = int(fields[fields.index(name) + 2], 16)
        self.assertEqual(announced, int(os.stat(src).st_ctime), offer["attachments"])
        self.assertEqual(int(os.stat(got).st_mtime), announced, name)


if __name__ == "__main__":
    unittest.main()
