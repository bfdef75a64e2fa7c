"""End-to-end tests of the encrypted file transfer (docs/protocol/files-encryption.md).

Real dengond on 127.0.0.2/3 with the files, crypto and filecrypt plugins,
licensed with a test licence (entitlement "file-encryption", signed by a key
the test makes and trusts through its own policy and keys folders, as in
tests/integration/test_licence.py). Each daemon gets an RSA-2048 key made
here and the fingerprinted user name that goes with it (§6.4), so peers
qualify for §6.6. An independent IP Messenger v4 peer (ipmsg_v4_peer.py:
stdlib + python3-cryptography) on 127.0.0.5 fetches from and serves to a
daemon. As root, a raw AF_PACKET capture on lo (BPF: TCP of the test's port)
checks that no plaintext of the files travels.
"""
import os
import socket
import time
import unittest

import filecrypt_env as env
import ipmsg_v4_peer as v4
from dgtest import BUILD_DIR, DaemonTestCase, SLOW, free_port, sha256_file, wait_until
from lo_capture import LoCapture

PLUGINS = os.path.join(BUILD_DIR, "lib", "dengon", "plugins")
TOOL = os.path.join(BUILD_DIR, "bin", "dengon-licence")
GETFILEDATA, GETDIRFILES, ENCRYPTOPT, ENCFILEOPT = 0x60, 0x62, 0x400000, 0x800
NOENC_FILEBODY = 0x04000000  # §6.6 request mode: signed, body not encrypted
CAPFILEENCOPT = 0x40000
MARKER = b"PLAINTEXT-MARKER-%d-" % os.getpid()


def tree(root):
    out = {}
    for dirpath, dirs, files in os.walk(root):
        for d in dirs:
            out[os.path.relpath(os.path.join(dirpath, d), root)] = "dir"
        for f in files:
            out[os.path.relpath(os.path.join(dirpath, f), root)] = sha256_file(os.path.join(dirpath, f))
    return out


def marker_bytes(size):
    return (MARKER * (size // len(MARKER) + 1))[:size]


def ipmsg_requests(cap):
    """Client -> server payloads of a TCP capture that start an IPMsg request."""
    return [p[3] for p in cap.packets if p[2] == cap.port and p[3].startswith(b"1:")]


def request_command(data):
    return int(data.partition(b"\0")[0].split(b":", 5)[4])


class FilecryptCase(DaemonTestCase):
    def setUp(self):
        super().setUp()
        self.port = free_port(("127.0.0.2", "127.0.0.3", "127.0.0.5"), tcp=True)
        self.keysdir, self.policy, self.licence = env.make_licence(TOOL, self.tmp)

    def node(self, name, addr, peers, licensed=True, trial=None):
        """A daemon with keys made here; (daemon, its user@host key).

        The ipmsg plugin appends our key's fingerprint to the logon name (§6.4);
        keys never carry it (ADR 0017)."""
        home = os.path.join(self.tmp, name)
        env.prepare_home(home, name, self.licence if licensed else None)
        opts = [
            "ipmsg.bind_address=" + addr,
            "ipmsg.port=%d" % self.port,
            "identity.user=" + name,
            "identity.host=test",
            "ipmsg.hosts=" + ",".join("%s:%d" % (p, self.port) for p in peers),
            "ipmsg.announce_interval_s=0",
        ]
        env_vars = {"DENGON_TEST_TRIAL_SECONDS": str(trial)} if trial else None
        d = self.daemon(name, plugin_dirs=[PLUGINS], options=opts, env=env_vars,
                        args=["--policy-dir", self.policy, "--keys-dir", self.keysdir])
        d.start()
        plugins = d.plugins()
        self.assertEqual(plugins["files"]["state"], "active", plugins)
        self.assertEqual(plugins["crypto"]["state"], "active", plugins)
        if licensed:
            self.assertEqual(plugins["filecrypt"]["state"], "active", plugins)
        return d, name + "@test"

    def pinned(self, d):
        return {p["peer"] for p in d.result("keys.list")["peers"]}

    def peer_status(self, d, key):
        for p in d.result("ipmsg.peers"):
            if p["key"] == key:
                return p
        return None

    def pair(self, b_licensed=True, b_trial=None):
        a, ka = self.node("alice", "127.0.0.2", ["127.0.0.3"])
        b, kb = self.node("bob", "127.0.0.3", ["127.0.0.2"], licensed=b_licensed, trial=b_trial)
        wait_until(lambda: self.pinned(a) == {kb} and self.pinned(b) == {ka}, timeout=15 * SLOW,
                   what="keys pinned on both sides")
        # Both see the other's fingerprinted logon name (§6.6 needs it).
        peers = a.result("ipmsg.peers")
        self.assertEqual([p["key"] for p in peers], [kb])
        self.assertRegex(peers[0].get("wire_user", peers[0]["user"]), r"^bob-<[0-9a-f]{16}>$")
        return a, ka, b, kb

    def events(self, d, pattern):
        return [e["payload"] for e in
                d.result("core.events", {"pattern": pattern, "after": 0, "limit": 10000})["events"]]

    def offer_at(self, d, pkt):
        return wait_until(lambda: [o for o in d.result("files.list")["offers"]
                                   if o["packet_no"] == pkt], timeout=10 * SLOW,
                          what="offer %d" % pkt)[0]

    def wait_state(self, d, oid, timeout=60):
        def st():
            o = [o for o in d.result("files.list")["offers"] if o["id"] == oid][0]
            return o if o["state"] in ("done", "failed", "cancelled") else None
        return wait_until(st, timeout=timeout * SLOW, interval=0.05, what="offer %d" % oid)

    def src(self, *parts):
        p = os.path.join(self.tmp, "src", *parts)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        return p

    def make_sources(self):
        f = self.src("secret.bin")
        with open(f, "wb") as out:
            out.write(marker_bytes(3 * 1024 * 1024 + 11))
        os.utime(f, (1600000000, 1600000000))
        root = self.src("Dossier 秘密")
        os.makedirs(os.path.join(root, "sub", "empty dir"))
        with open(os.path.join(root, "sub", "empty.txt"), "w"):
            pass
        with open(os.path.join(root, "notes ✓.txt"), "wb") as out:
            out.write(marker_bytes(700 * 1024))
        with open(os.path.join(root, "sub", "random.bin"), "wb") as out:
            out.write(os.urandom(300 * 1024))
        return f, root

    def transfer(self, a, b, kb, paths):
        sent = a.result("files.send", {"to": [kb], "paths": paths, "text": "encrypted?"})
        offer = self.offer_at(b, sent["id"])
        b.result("files.accept", {"id": offer["id"]})
        done = self.wait_state(b, offer["id"])
        self.assertEqual(done["state"], "done", done)
        return sent, done

    def check_received(self, b, f, root):
        dl = os.path.join(b.home, "data", "downloads")
        self.assertEqual(sha256_file(os.path.join(dl, os.path.basename(f))), sha256_file(f))
        self.assertEqual(int(os.stat(os.path.join(dl, os.path.basename(f))).st_mtime),
                         1600000000)
        self.assertEqual(tree(os.path.join(dl, os.path.basename(root))), tree(root))


class TestBetweenDaemons(FilecryptCase):
    def encrypted_pair_transfer(self, cap=None):
        a, ka, b, kb = self.pair()
        f, root = self.make_sources()
        sent, done = self.transfer(a, b, kb, [f, root])
        self.check_received(b, f, root)
        # Shown as encrypted on both sides, and in the CLI.
        self.assertTrue(done.get("encrypted"), done)
        fin = [e for e in self.events(b, "files.done") if e["id"] == done["id"]]
        self.assertTrue(fin and fin[0]["encrypted"], fin)
        sends = [e for e in self.events(a, "files.sent") if e["id"] == sent["id"]]
        self.assertEqual(len(sends), 2, sends)
        self.assertTrue(all(e["encrypted"] for e in sends), sends)
        acc = self.events(a, "filecrypt.request.accepted")
        self.assertEqual(sorted(e["file_id"] for e in acc), [0, 1], acc)
        self.assertTrue(all(e["mode"] == "aes-256-ctr" and e["peer"] == kb for e in acc), acc)
        r = b.cli("files", json_out=True)
        self.assertEqual(r.rc, 0, r.err)
        row = [o for o in r.json()["offers"] if o["id"] == done["id"]][0]
        self.assertTrue(row["encrypted"], row)
        human = b.cli("files")
        self.assertEqual(human.rc, 0, human.err)
        self.assertIn("encrypted", human.out)
        return a, ka, b, kb

    def test_parallel_downloads_from_one_peer(self):
        # Twelve offers accepted at once: their requests are numbered in order but
        # connect in any order; the replay guard's window accepts each once.
        a, ka, b, kb = self.pair()
        ids, paths = [], []
        for i in range(12):
            g = self.src("par%d.bin" % i)
            with open(g, "wb") as out:
                out.write(os.urandom(200000))
            paths.append(g)
            sent = a.result("files.send", {"to": [kb], "paths": [g]})
            ids.append(self.offer_at(b, sent["id"])["id"])
        for oid in ids:
            b.result("files.accept", {"id": oid})
        states = [self.wait_state(b, oid) for oid in ids]
        self.assertEqual([st["state"] for st in states], ["done"] * 12, states)
        self.assertTrue(all(st.get("encrypted") for st in states), states)
        dl = os.path.join(b.home, "data", "downloads")
        for g in paths:
            self.assertEqual(sha256_file(os.path.join(dl, os.path.basename(g))), sha256_file(g))
        self.assertEqual(self.events(a, "filecrypt.request.refused"), [])

    def test_file_and_folder_encrypted_byte_identical(self):
        a, ka, b, kb = self.encrypted_pair_transfer()
        self.assert_clean_exit(b)
        self.assert_clean_exit(a)

    def test_capture_shows_no_plaintext_and_replayed_or_tampered_requests_are_refused(self):
        if os.geteuid() != 0:
            self.skipTest("not root: no AF_PACKET capture (the transfer itself runs in "
                          "test_file_and_folder_encrypted_byte_identical)")
        cap = LoCapture(self.port, "tcp")
        try:
            a, ka, b, kb = self.encrypted_pair_transfer(cap)
            time.sleep(0.3)
        finally:
            cap.close()
        reqs = ipmsg_requests(cap)
        self.assertEqual(len(reqs), 2, [r[:60] for r in reqs])
        for r in reqs:
            cmd = request_command(r)
            self.assertEqual(cmd & 0xFF, GETDIRFILES, hex(cmd))  # files too (§6.6)
            self.assertTrue(cmd & ENCRYPTOPT and cmd & ENCFILEOPT, hex(cmd))
        stream = b"".join(cap.payloads())
        # Everything was seen: the files' bytes plus headers and requests.
        self.assertGreater(len(stream), 3 * 1024 * 1024 + (700 + 300) * 1024,
                           "the capture saw the whole transfer")
        self.assertNotIn(MARKER, stream, "plaintext of a file on the wire")
        self.assertNotIn("Dossier 秘密".encode(), stream, "a folder header in clear")
        self.assertNotIn("notes ✓.txt".encode(), stream)

        # The captured request again (same reqPkt), from another address: refused,
        # nothing is answered.
        def replay(data):
            with socket.create_connection(("127.0.0.2", self.port), timeout=10 * SLOW,
                                          source_address=("127.0.0.3", 0)) as s:
                s.sendall(data)
                got = b""
                while True:
                    try:
                        chunk = s.recv(65536)
                    except ConnectionResetError:
                        break
                    if not chunk:
                        break
                    got += chunk
                return got
        self.assertEqual(replay(reqs[0]), b"")
        ref = wait_until(lambda: self.events(a, "filecrypt.request.refused"), what="refusal")
        self.assertEqual(ref[-1]["why"], "replay", ref)
        self.assertEqual(ref[-1]["peer"], kb)
        # Tampered: one character of the encrypted body changed.
        head, _, rest = reqs[1].partition(b"\0")
        fields = head.split(b":")
        body = bytearray(fields[7])
        body[10] = ord("A") if body[10] != ord("A") else ord("B")
        fields[7] = bytes(body)
        self.assertEqual(replay(b":".join(fields) + b"\0" + rest), b"")
        ref = wait_until(lambda: len(self.events(a, "filecrypt.request.refused")) >= 2,
                         what="second refusal") and self.events(a, "filecrypt.request.refused")
        self.assertEqual(ref[-1]["why"], "invalid", ref)
        self.assert_clean_exit(b)
        self.assert_clean_exit(a)

    def test_encrypted_resume_sends_only_the_rest(self):
        a, ka, b, kb = self.pair()
        size = 512 * 1024 * 1024
        big = self.src("big.img")
        with open(big, "wb") as out:  # sparse, random first and last MiB
            out.write(os.urandom(1 << 20))
            out.seek(size - (1 << 20))
            out.write(os.urandom(1 << 20))
        sent = a.result("files.send", {"to": [kb], "paths": [big]})
        offer = self.offer_at(b, sent["id"])
        b.result("files.accept", {"id": offer["id"]})
        part = os.path.join(b.home, "data", "downloads", "big.img.part")
        wait_until(lambda: os.path.exists(part) and os.path.getsize(part) > 16 << 20,
                   timeout=30 * SLOW, interval=0.005, what="transfer under way")
        b.result("files.cancel", {"id": offer["id"]})
        st = self.wait_state(b, offer["id"])
        self.assertEqual(st["state"], "cancelled", st)
        got = os.path.getsize(part)
        self.assertLess(got, size)
        # Accepted again: an encrypted GETFILEDATA from the offset reached (a
        # GETDIRFILES would send everything again).
        b.result("files.accept", {"id": offer["id"]})
        done = self.wait_state(b, offer["id"], timeout=120)
        self.assertEqual(done["state"], "done", done)
        self.assertTrue(done["encrypted"], done)
        self.assertEqual(sha256_file(os.path.join(b.home, "data", "downloads", "big.img")), sha256_file(big))
        served = wait_until(lambda: [e for e in self.events(a, "files.sent")
                                     if e["id"] == sent["id"]], what="files.sent")
        self.assertEqual(served[-1]["bytes"], size - got)
        self.assertTrue(served[-1]["encrypted"])
        acc = self.events(a, "filecrypt.request.accepted")
        self.assertEqual(len(acc), 2, acc)
        self.assert_clean_exit(b)
        self.assert_clean_exit(a)

    def test_without_licence_the_transfer_is_plain_and_works(self):
        a, ka, b, kb = self.pair(b_licensed=False, b_trial=1)
        if not b.result("licence.show")["testing_build"]:
            self.skipTest("the trial can only be shortened in a DENGON_TESTING_BUILD")
        wait_until(lambda: b.plugins()["filecrypt"]["state"] != "active", timeout=15 * SLOW,
                   what="bob's filecrypt trial ended")
        # Bob withdrew CAPFILEENCOPT when filecrypt stopped; alice sees it.
        wait_until(lambda: not (self.peer_status(a, kb) or {}).get("entry_status", 0)
                   & CAPFILEENCOPT, timeout=10 * SLOW, what="alice sees bob without CAPFILEENCOPT")
        f, root = self.make_sources()
        sent, done = self.transfer(a, b, kb, [f, root])
        self.check_received(b, f, root)
        self.assertFalse(done.get("encrypted"), done)
        self.assertEqual(self.events(a, "filecrypt.request.accepted"), [])
        # The other way: alice (licensed) downloads from bob (not), in clear too.
        g = self.src("back.bin")
        with open(g, "wb") as out:
            out.write(os.urandom(100000))
        sent = b.result("files.send", {"to": [ka], "paths": [g]})
        offer = self.offer_at(a, sent["id"])
        a.result("files.accept", {"id": offer["id"]})
        done = self.wait_state(a, offer["id"])
        self.assertEqual(done["state"], "done", done)
        self.assertFalse(done.get("encrypted"), done)
        self.assertEqual(sha256_file(os.path.join(a.home, "data", "downloads", "back.bin")), sha256_file(g))
        self.assert_clean_exit(b)
        self.assert_clean_exit(a)


class TestIndependentV4Peer(FilecryptCase):
    def setup_peer(self):
        a, ka = self.node("alice", "127.0.0.2", ["127.0.0.5"])
        peer = v4.V4Peer("127.0.0.5", self.port)
        self.addCleanup(peer.close)
        pk = "winv4@%s" % peer.host  # keys carry no fingerprint field (ADR 0017)
        peer.entry("127.0.0.2")
        wait_until(lambda: pk in self.pinned(a), timeout=15 * SLOW, what="alice pins the v4 key")
        peer.fetch_key("127.0.0.2")
        return a, ka, peer, pk

    def test_v4_receiver_fetches_from_the_daemon_and_replay_and_tampering_are_refused(self):
        a, ka, peer, pk = self.setup_peer()
        f, root = self.make_sources()
        sent = a.result("files.send", {"to": [pk], "paths": [f, root]})
        pkt = sent["id"]
        # The regular file: one REGULAR record in the CTR stream.
        req, key, no = peer.sealed_request("127.0.0.2", pkt, 0)
        plain, raw = peer.fetch("127.0.0.2", req, key, no)
        self.assertNotIn(MARKER, raw)
        recs = v4.parse_records(plain)
        self.assertEqual([(r[0], r[1]) for r in recs], [("secret.bin", v4.FILE_REGULAR)])
        with open(f, "rb") as src:
            self.assertEqual(recs[0][2], src.read())
        # The folder: DIR ... RETPARENT, every file byte-identical.
        req2, key2, no2 = peer.sealed_request("127.0.0.2", pkt, 1)
        plain, raw = peer.fetch("127.0.0.2", req2, key2, no2)
        recs = v4.parse_records(plain)
        self.assertEqual(recs[0][:2], ("Dossier 秘密", v4.FILE_DIR))
        self.assertEqual(recs[-1][:2], (".", v4.FILE_RETPARENT))
        files = {r[0]: r[2] for r in recs if r[1] == v4.FILE_REGULAR}
        with open(os.path.join(root, "notes ✓.txt"), "rb") as src:
            self.assertEqual(files["notes ✓.txt"], src.read())
        with open(os.path.join(root, "sub", "random.bin"), "rb") as src:
            self.assertEqual(files["random.bin"], src.read())
        self.assertEqual(files["empty.txt"], b"")
        acc = self.events(a, "filecrypt.request.accepted")
        self.assertEqual([(e["peer"], e["file_id"]) for e in acc], [(pk, 0), (pk, 1)], acc)
        self.assertEqual({e["address"] for e in acc}, {"127.0.0.5"})
        # The same request again: the replay guard refuses it.
        self.assertEqual(peer.fetch("127.0.0.2", req, key, no)[1], b"")
        ref = wait_until(lambda: self.events(a, "filecrypt.request.refused"), what="refusal")
        self.assertEqual(ref[-1]["why"], "replay", ref)
        # A tampered body (one base64 character of the ciphertext), and a forged signature.
        sent = a.result("files.send", {"to": [pk], "paths": [f]})

        def flip(field):
            def t(extra):
                parts = extra.split(":")
                s = parts[field]
                parts[field] = s[:20] + ("A" if s[20] != "A" else "B") + s[21:]
                return ":".join(parts)
            return t
        for field in (2, 3):
            req, key, no = peer.sealed_request("127.0.0.2", sent["id"], 0, tamper=flip(field))
            self.assertEqual(peer.fetch("127.0.0.2", req, key, no)[1], b"")
        ref = self.events(a, "filecrypt.request.refused")
        self.assertEqual([e["why"] for e in ref], ["replay", "invalid", "invalid"], ref)
        # A plain request from that other address gets nothing: only the signature vouches.
        plain_req = b"1:%d:%s:script:%d:%x:0:0:\0" % (peer.next_no(), peer.user.encode(),
                                                      GETFILEDATA | 0x800000, sent["id"])
        with socket.create_connection(("127.0.0.2", self.port), timeout=10 * SLOW,
                                      source_address=("127.0.0.6", 0)) as s:
            s.sendall(plain_req)
            self.assertEqual(s.recv(65536), b"")
        # The untampered request still works afterwards (nothing was consumed), and
        # from another address: a verified signature replaces the address check (§6.6).
        req, key, no = peer.sealed_request("127.0.0.2", sent["id"], 0)
        plain, raw = peer.fetch("127.0.0.2", req, key, no, source="127.0.0.6")
        with open(f, "rb") as src:
            self.assertEqual(v4.parse_records(plain)[0][2], src.read())
        self.assert_clean_exit(a)

    def test_signed_only_request_for_a_regular_file(self):
        # §6.6 NOENC_FILEBODY: a sealed GETDIRFILES for a regular file, body in clear.
        a, ka, peer, pk = self.setup_peer()
        f, root = self.make_sources()
        pkt = a.result("files.send", {"to": [pk], "paths": [f]})["id"]

        def noenc_request():
            no = peer.next_no()
            plain = ("%x:%x:%x:%x" % (pkt, 0, NOENC_FILEBODY, no)).encode() + b"\0"
            extra = v4.body_encrypt(no, peer.keys["127.0.0.2"], peer.priv, plain)
            return peer.packet(no, GETDIRFILES | v4.UTF8OPT | ENCRYPTOPT | ENCFILEOPT, extra)

        def fetch(req, source):
            raw = b""
            with socket.create_connection(("127.0.0.2", self.port), timeout=10 * SLOW,
                                          source_address=(source, 0)) as s:
                s.sendall(req)
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        return raw
                    raw += chunk

        recs = v4.parse_records(fetch(noenc_request(), "127.0.0.5"))
        with open(f, "rb") as src:
            self.assertEqual([(r[0], r[1], r[2]) for r in recs],
                             [("secret.bin", v4.FILE_REGULAR, src.read())])
        acc = self.events(a, "filecrypt.request.accepted")
        self.assertEqual([e["mode"] for e in acc], ["signed, body not encrypted"], acc)

    def test_daemon_downloads_from_a_v4_sender(self):
        a, ka, peer, pk = self.setup_peer()
        peer.serve()
        data = marker_bytes(1024 * 1024 + 5)
        small = os.urandom(4096)
        no = peer.offer("127.0.0.2", [("from windows.bin", data, 1500000000),
                                      ("small.bin", small, 1500000001)])
        offer = self.offer_at(a, no)
        a.result("files.accept", {"id": offer["id"]})
        done = self.wait_state(a, offer["id"])
        self.assertEqual(done["state"], "done", (done, peer.served))
        self.assertTrue(done.get("encrypted"), done)
        self.assertEqual([s[0] for s in peer.served], ["sent", "sent"], peer.served)
        dl = os.path.join(a.home, "data", "downloads")
        with open(os.path.join(dl, "from windows.bin"), "rb") as f:
            self.assertEqual(f.read(), data)
        with open(os.path.join(dl, "small.bin"), "rb") as f:
            self.assertEqual(f.read(), small)
        self.assertEqual(int(os.stat(os.path.join(dl, "small.bin")).st_mtime), 1500000001)
        self.assert_clean_exit(a)


if __name__ == "__main__":
    unittest.main()
