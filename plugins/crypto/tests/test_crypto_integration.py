"""End-to-end tests of the crypto plugin (docs/protocol/ipmsg-crypto.md
"Wiring"): two real dengond on 127.0.0.2 and 127.0.0.3 exchanging encrypted
messages, and raw IPMsg peers on 127.0.0.5 written here with Python and
python3-cryptography (the independent implementation of
tests/unit/crypto_interop.py): a legacy RSA-1024 + Blowfish peer, a modern
RSA-2048 peer that tampers, changes its key, or stops offering encryption.
When run as root, a raw AF_PACKET socket on lo captures every UDP payload of
the test's port and the test checks that no plaintext crossed the wire.
Traffic stays on 127.0.0.x; every daemon is stopped by PID even on failure.
"""
import base64
import os
import re
import socket
import threading
import time
import unittest

from cryptography.hazmat.primitives.asymmetric import rsa

from crypto_interop import compose, fingerprint, from_wire, py_decrypt, py_encrypt, wire
from dgtest import BUILD_DIR, DaemonTestCase, SLOW, free_port, wait_until
from lo_capture import LoCapture

PLUGINS = os.path.join(BUILD_DIR, "lib", "dengon", "plugins")
BR_ENTRY, ANSENTRY, BR_ABSENCE = 0x01, 0x03, 0x04
SENDMSG, RECVMSG, GETPUBKEY, ANSPUBKEY = 0x20, 0x21, 0x72, 0x73
SENDCHECKOPT, AUTORETOPT, NOLOGOPT = 0x100, 0x2000, 0x20000
ENCRYPTOPT, UTF8OPT, CAPUTF8OPT, ENCEXTMSGOPT = 0x400000, 0x800000, 0x1000000, 0x4000000
CAPA_LEGACY = 0x01820002  # RSA_1024|BLOWFISH_128|PACKETNO_IV|ENCODE_BASE64
CAPA_MODERN = 0x65900004  # the 2048-bit key set of a modern Windows (§6.1)

JAPANESE = "暗号化テスト：こんにちは、世界！ 伝言 🎉🍣🔐"


def parse(data):
    """(packet_no field, user, host, command, extra bytes) of a datagram."""
    head, _, _ = data.partition(b"\0")
    parts = head.split(b":", 5)
    return parts[1].decode(), parts[2].decode(), parts[3].decode(), int(parts[4]), parts[5]


class CryptoPeer:
    """A raw IPMsg peer with its own RSA key that answers GETPUBKEY and acks."""

    def __init__(self, port, bits=2048, capa=CAPA_MODERN, user="raw", addr="127.0.0.5"):
        self.port, self.capa, self.user, self.host = port, capa, user, "script"
        self.priv = rsa.generate_private_key(public_exponent=65537, key_size=bits)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((addr, port))
        self.sock.settimeout(0.1)
        self.no = int(time.time())
        self.peer_keys = {}  # address -> public key from ANSPUBKEY
        self.got = []  # (packet no, user, host, command, extra, datagram)
        self.answer_getpubkey = True

    def close(self):
        self.sock.close()

    def send(self, to, cmd, extra=b"", tail=b"", no=None):
        if isinstance(extra, str):
            extra = extra.encode()
        self.no += 1
        no = no or self.no
        data = b"1:%d:%s:%s:%d:" % (no, self.user.encode(), self.host.encode(), cmd)
        self.sock.sendto(data + extra + b"\0" + tail, (to, self.port))
        return no

    def entry(self, to, status=ENCRYPTOPT | CAPUTF8OPT, mode=BR_ENTRY):
        block = "\nUN:%s\nHN:%s\nNN:%s\nGN:" % (self.user, self.host, self.user)
        self.send(to, mode | status, self.user, b"\0" + block.encode())

    def pump(self, seconds=1.0, until=None):
        """Handles what arrives (acks, key exchange) for seconds or until until(got) is true."""
        deadline = time.monotonic() + seconds * SLOW
        while time.monotonic() < deadline:
            try:
                data, src = self.sock.recvfrom(65536)
            except socket.timeout:
                if until and until(self.got):
                    return True
                continue
            p = parse(data)
            self.got.append(p + (data,))
            mode, opts = p[3] & 0xFF, p[3] & ~0xFF
            if mode == GETPUBKEY and self.answer_getpubkey:
                self.send(src[0], ANSPUBKEY | UTF8OPT,
                          "%X:%s" % (self.capa, wire(self.priv.public_key())))
            elif mode == ANSPUBKEY:
                self.peer_keys[src[0]] = from_wire(p[4].decode().split(":", 1)[1])
            elif mode == SENDMSG and opts & SENDCHECKOPT:
                self.send(src[0], RECVMSG | UTF8OPT, p[0])
            if until and until(self.got):
                return True
        return False

    def sendmsgs(self):
        return [g for g in self.got if g[3] & 0xFF == SENDMSG]

    def fetch_key(self, to):
        """GETPUBKEY to the daemon, waiting for its ANSPUBKEY."""
        self.send(to, GETPUBKEY | UTF8OPT, "%X" % self.capa)
        self.pump(5, until=lambda g: to in self.peer_keys)
        return self.peer_keys[to]

    def encrypted(self, to, text, capa, sign=True, tamper=None, tolist=None):
        """Sends an encrypted SENDMSG; tamper(extra) may change the extra first. With
        tolist, the plaintext carries it (§6.5) and the command ENCEXTMSGOPT."""
        self.no += 1
        no = self.no
        extra = py_encrypt(capa, str(no), self.peer_keys[to], self.priv if sign else None,
                           compose(text, None, tolist) if tolist is not None else compose(text))
        if tamper:
            extra = tamper(extra)
        ext = ENCEXTMSGOPT if tolist is not None else 0
        self.send(to, SENDMSG | SENDCHECKOPT | ENCRYPTOPT | UTF8OPT | ext, extra, no=no)
        return no


class CryptoTestCase(DaemonTestCase):
    def setUp(self):
        super().setUp()
        self.port = free_port(("127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"))

    def node(self, name, addr, peers=(), options=(), keys_ready=True, warm=False):
        """A daemon; warm: its key pairs made by a first run, so this start loads
        them at once and announces the fingerprinted name from its first entry
        (a first start waits at most a few seconds for the keys, and a loaded
        machine may take longer)."""
        opts = [
            "ipmsg.bind_address=" + addr,
            "ipmsg.port=%d" % self.port,
            "identity.user=" + name,
            "identity.host=test",
            "ipmsg.hosts=" + ",".join("%s:%d" % (p, self.port) for p in peers),
            "ipmsg.announce_interval_s=0",
            "plugins.files.enabled=false",
        ] + list(options)
        d = self.daemon(name, plugin_dirs=[PLUGINS], options=opts)
        if warm:
            d.start()
            wait_until(lambda: self.own_keys(d)["state"] == "ready", timeout=30,
                       what="our key pairs")
            self.assert_clean_exit(d)
        d.start()
        self.assertEqual(d.plugins()["crypto"]["state"], "active", d.plugins())
        if warm:
            self.assertEqual(self.own_keys(d)["state"], "ready")
        if keys_ready:
            # A first start makes the key pairs in a worker thread: encryption is
            # advertised (and GETPUBKEY answered) once they exist.
            wait_until(lambda: self.own_keys(d)["state"] == "ready", timeout=15,
                       what="our key pairs")
        return d

    def own_keys(self, d):
        r = d.cli("keys", json_out=True)
        self.assertEqual(r.rc, 0, r.err)
        return r.json()["own"]

    def peer(self, **kw):
        p = CryptoPeer(self.port, **kw)
        self.addCleanup(p.close)
        return p

    def events(self, d, pattern):
        return [e["payload"] for e in
                d.result("core.events", {"pattern": pattern, "after": 0, "limit": 10000})["events"]]

    def inbox(self, d):
        return d.result("chat.inbox")["messages"]

    def wait_text(self, d, text):
        return wait_until(lambda: [m for m in self.inbox(d) if m.get("text") == text],
                          timeout=15, what="message in the inbox")[0]

    def keys(self, d):
        r = d.cli("keys", json_out=True)
        self.assertEqual(r.rc, 0, r.err)
        return {p["peer"]: p for p in r.json()["peers"]}

    def wire_user(self, d):
        """The user name d sends (with its key's fingerprint field, §6.4)."""
        return d.result("ipmsg.stats")["user"]

    # ---- daemon <-> daemon ----

    def exchange(self, capture=None):
        a = self.node("alice", "127.0.0.2", peers=["127.0.0.3"])
        b = self.node("bob", "127.0.0.3", peers=["127.0.0.2"])
        # Both learn each other's key (GETPUBKEY when a peer with ENCRYPTOPT appears).
        wait_until(lambda: "bob@test" in self.keys(a) and "alice@test" in self.keys(b),
                   timeout=15, what="keys pinned on both sides")
        big = "dengon-8k-" + "".join(chr(0x41 + i % 26) for i in range(8192 - 10))
        texts = [JAPANESE, "plain ascii marker SECRET-%d" % os.getpid(), big]
        for text in texts:
            r = a.result("chat.send", {"to": ["bob@test"], "text": text, "wait": True})
            self.assertEqual([x["state"] for x in r["recipients"]], ["delivered"], r)
            m = self.wait_text(b, text)
            self.assertTrue(m["encrypted"], m)
            self.assertTrue(m["verified"], m)
            back = text + " (返信)"
            b.result("chat.send", {"to": ["alice@test"], "text": back, "wait": True})
            m = self.wait_text(a, back)
            self.assertTrue(m["encrypted"] and m["verified"], m)
        ev = [e for e in self.events(b, "chat.message.received") if e.get("text") == JAPANESE]
        self.assertTrue(ev and ev[0]["encrypted"] and ev[0]["verified"], ev)
        self.assertIn("AES", ev[0]["suite"])
        if capture:
            time.sleep(0.2)
            sendmsgs = [p for p in capture.payloads() if p.startswith(b"1:") and
                        int(p.split(b":")[4]) & 0xFF == SENDMSG]
            self.assertGreaterEqual(len(sendmsgs), 6, "the capture saw the messages")
            self.assertTrue(all(int(p.split(b":")[4]) & ENCRYPTOPT for p in sendmsgs))
            for text in texts:
                for t in (text, text + " (返信)"):
                    needle = t.encode()[:64]
                    for p in capture.payloads():
                        self.assertNotIn(needle, p, "plaintext on the wire")
                for word in ("暗号化テスト".encode(), b"SECRET-%d" % os.getpid(), b"dengon-8k-"):
                    self.assertFalse(any(word in p for p in capture.payloads()), word)
        self.assert_clean_exit(a)
        self.assert_clean_exit(b)

    def test_daemons_exchange_encrypted_and_nothing_in_clear_on_the_wire(self):
        if os.geteuid() != 0:
            self.skipTest("not root: no AF_PACKET capture (the exchange itself runs in "
                          "test_daemons_exchange_encrypted)")
        cap = LoCapture(self.port, "udp")
        try:
            self.exchange(cap)
        finally:
            cap.close()

    def test_daemons_exchange_encrypted(self):
        self.exchange()

    # ---- our key pairs ----

    def key_files(self, d):
        found = {}
        for root, _, files in os.walk(d.home):
            for f in files:
                if f.startswith("ipmsg-rsa") and f.endswith(".pem"):
                    found[f] = os.path.join(root, f)
        return found

    def test_first_start_makes_keys_in_the_background_then_encrypts(self):
        r = self.peer()  # listening before the daemon's first entry packet
        a = self.node("alice", "127.0.0.2", peers=["127.0.0.5"], keys_ready=False)
        r.entry("127.0.0.2")
        wait_until(lambda: any(u["key"] == "raw@script" for u in a.result("ipmsg.peers")),
                   what="raw peer known")
        # Sent at once: while our keys are being made the message is held (as for
        # a missing peer key), then encrypted and signed with the new key.
        res = {}
        threading.Thread(target=lambda: res.setdefault("r", a.result(
            "chat.send", {"to": ["raw@script"], "text": "first words 🔑", "wait": True})),
            daemon=True).start()
        self.assertTrue(r.pump(15, until=lambda g: r.sendmsgs()), "no SENDMSG")
        r.pump(1.5)  # the ANSENTRY comes after a random delay of up to a second
        no, _, _, cmd, extra, _ = r.sendmsgs()[0]
        self.assertTrue(cmd & ENCRYPTOPT, hex(cmd))
        own = self.own_keys(a)
        self.assertEqual(own["state"], "ready", own)
        files = self.key_files(a)
        self.assertEqual(sorted(files), ["ipmsg-rsa1024.pem", "ipmsg-rsa2048.pem"])
        for path in files.values():
            self.assertEqual(os.stat(path).st_mode & 0o777, 0o600, path)
        ours = r.fetch_key("127.0.0.2")
        _, plain = py_decrypt(extra.decode(), no, r.priv, ours)  # signature checked too
        self.assertEqual(plain, compose("first words 🔑"))
        wait_until(lambda: "r" in res, what="chat.send answered")
        self.assertEqual(res["r"]["recipients"][0]["state"], "delivered", res)
        # Encryption is advertised once the keys exist: the last entry packet says so.
        entries = [g for g in r.got if g[3] & 0xFF in (BR_ENTRY, ANSENTRY, BR_ABSENCE)]
        self.assertTrue(entries, "no entry packet from the daemon: %r" % [(hex(g[3]), g[1]) for g in r.got])
        self.assertTrue(entries[-1][3] & ENCRYPTOPT, hex(entries[-1][3]))
        self.assert_clean_exit(a)

    def test_restart_loads_keys_at_once_and_a_broken_key_is_refused(self):
        a = self.node("alice", "127.0.0.2")
        before = self.own_keys(a)
        files = self.key_files(a)
        self.assertEqual(len(files), 2)
        self.assert_clean_exit(a)
        # Existing keys are loaded synchronously: ready as soon as the daemon is.
        a.start()
        self.assertEqual(self.own_keys(a), before)
        self.assert_clean_exit(a)
        # A damaged key file: a clear error, the plugin does not start, and the
        # file is left as it is (a new key would change our identity silently).
        path = files["ipmsg-rsa2048.pem"]
        with open(path, "r+b") as f:
            pem = bytearray(f.read())
            pem[len(pem) // 2] = ord("!")
            f.seek(0)
            f.write(pem)
        a.start()
        self.assertEqual(a.plugins()["crypto"]["state"], "start_failed", a.plugins())
        with open(path, "rb") as f:
            self.assertEqual(f.read(), bytes(pem))
        self.assertIn("ipmsg-rsa2048.pem", a.log_text() + a.stderr_text())
        self.assert_clean_exit(a)

    # ---- our fingerprinted user name (§6.4) ----

    def test_fingerprinted_name_seen_and_verified_by_an_independent_peer(self):
        a = self.node("alice", "127.0.0.2", peers=["127.0.0.5"], warm=True)
        r = self.peer()
        r.entry("127.0.0.2")
        self.assertTrue(r.pump(5, until=lambda g: any(x[3] & 0xFF == ANSENTRY for x in g)),
                        "no ANSENTRY")
        names = {x[1] for x in r.got if x[3] & 0xFF in (BR_ENTRY, ANSENTRY, BR_ABSENCE)}
        self.assertEqual(len(names), 1, names)
        name = names.pop()
        m = re.fullmatch(r"alice-<([0-9a-f]{16})>", name)
        self.assertTrue(m, name)
        # The name matches the key the daemon sends, computed independently.
        self.assertEqual(m.group(1), fingerprint(r.fetch_key("127.0.0.2")))
        self.assertEqual(self.wire_user(a), name)
        # Keys leave the field out: the same person with or without encryption.
        self.assertEqual(a.result("ipmsg.stats")["key"], "alice@test")
        # The nickname stays the plain user name.
        ansentry = [x for x in r.got if x[3] & 0xFF == ANSENTRY][0]
        self.assertEqual(ansentry[4], b"alice")
        self.assert_clean_exit(a)

    def test_first_start_announces_one_name_only(self):
        # A new home: the keys are made after start; the first BR_ENTRY waits
        # for them, so peers never see the plain name and then another one.
        r = self.peer()
        a = self.node("alice", "127.0.0.2", peers=["127.0.0.5"], keys_ready=False)
        r.entry("127.0.0.2")
        r.pump(2)
        wait_until(lambda: self.own_keys(a)["state"] == "ready", what="keys")
        r.pump(1)
        sent = {x[1] for x in r.got if x[3] & 0xFF != 0}  # NOOPERATION adds no entry
        self.assertEqual(len(sent), 1, sent)
        name = sent.pop()
        if name == "alice":
            # Only when the keys took longer than the bounded wait (a loaded machine):
            # then the plain name for the whole run, and the log says why.
            self.assertIn("no key fingerprint from the crypto plugin", a.log_text())
        else:
            self.assertRegex(name, r"^alice-<[0-9a-f]{16}>$")
            self.assertEqual(self.wire_user(a), name)
        self.assert_clean_exit(a)

    def test_daemons_address_each_other_without_the_fingerprint(self):
        a = self.node("alice", "127.0.0.2", peers=["127.0.0.3"], warm=True)
        b = self.node("bob", "127.0.0.3", peers=["127.0.0.2"], warm=True)
        wait_until(lambda: "bob@test" in self.keys(a) and "alice@test" in self.keys(b),
                   timeout=15, what="keys pinned on both sides")
        # Bob's first run ended with a BR_ABSENCE without ENCRYPTOPT (its crypto
        # plugin stops first): alice waits for the entry of its second run.
        wait_until(lambda: [u for u in a.result("ipmsg.peers") if u["key"] == "bob@test" and
                            u.get("wire_user", "").startswith("bob-<") and
                            u["entry_status"] & ENCRYPTOPT], timeout=15,
                   what="bob's fingerprinted entry with ENCRYPTOPT at alice")
        bob = self.wire_user(b)
        self.assertRegex(bob, r"^bob-<[0-9a-f]{16}>$")
        for to in ("bob@test", bob + "@test", "bob", bob, "BOB@TEST"):
            r = a.result("chat.send", {"to": [to], "text": "via " + to, "wait": True})
            self.assertEqual(r["recipients"][0]["state"], "delivered", r)
            m = self.wait_text(b, "via " + to)
            self.assertTrue(m["encrypted"] and m["verified"], m)
            self.assertEqual(m["from"], "alice@test")
        self.assertEqual(a.cli("send", "bob@test", "from the CLI").rc, 0)
        self.wait_text(b, "from the CLI")
        self.assertFalse(self.events(a, "crypto.key.rejected"))
        self.assertFalse(self.events(b, "crypto.key.rejected"))
        # Turned off: the plain name.
        c = self.node("carol", "127.0.0.4", options=["crypto.fingerprint_name=false"])
        self.assertEqual(self.wire_user(c), "carol")
        for d in (a, b, c):
            self.assert_clean_exit(d)

    # ---- recipient list inside the ciphertext (§6.5) ----

    def test_recipient_list_between_three_daemons(self):
        addrs = {"alice": "127.0.0.2", "bob": "127.0.0.3", "carol": "127.0.0.4"}
        ds = {n: self.node(n, a, peers=[x for x in addrs.values() if x != a])
              for n, a in addrs.items()}
        for me, d in ds.items():
            others = {n + "@test" for n in addrs if n != me}
            wait_until(lambda: others <= set(self.keys(d)), timeout=15,
                       what="%s pinned the others' keys" % me)
        a, b, c = ds["alice"], ds["bob"], ds["carol"]
        text = "to both of you 👥 (%d)" % os.getpid()
        r = a.result("chat.send", {"to": ["bob@test", "carol@test"], "text": text, "wait": True})
        self.assertEqual([x["state"] for x in r["recipients"]], ["delivered", "delivered"], r)
        for d, other in ((b, "carol@test"), (c, "bob@test")):
            m = self.wait_text(d, text)
            self.assertTrue(m["encrypted"] and m["verified"], m)
            self.assertEqual(m["to"], [other], m)
            ev = [e for e in self.events(d, "chat.message.received") if e.get("text") == text]
            self.assertEqual(ev[0]["to"], [other], ev)
        inbox = b.cli("inbox", json_out=True)
        self.assertEqual(inbox.rc, 0, inbox.err)
        listed = [m for m in inbox.json()["messages"] if m.get("text") == text]
        self.assertEqual(listed[0]["to"], ["carol@test"], listed)
        # One recipient: no list.
        a.result("chat.send", {"to": ["bob@test"], "text": "just you", "wait": True})
        self.assertNotIn("to", self.wait_text(b, "just you"))
        for d in ds.values():
            self.assert_clean_exit(d)

    def test_recipient_list_checked_by_an_independent_peer(self):
        a = self.node("alice", "127.0.0.2", peers=["127.0.0.3", "127.0.0.5"])
        b = self.node("bob", "127.0.0.3", peers=["127.0.0.2"])
        r = self.peer()
        r.entry("127.0.0.2", status=ENCRYPTOPT | ENCEXTMSGOPT | CAPUTF8OPT)
        r.pump(5, until=lambda g: any(x[3] & 0xFF == GETPUBKEY for x in g))
        wait_until(lambda: {"raw@script", "bob@test"} <= set(self.keys(a)), timeout=15,
                   what="keys pinned")
        ours = r.fetch_key("127.0.0.2")
        # dengon -> the Python peer: the list is inside, exactly as §6.5 writes it.
        r.got.clear()
        a.result("chat.send", {"to": ["raw@script", "bob@test"], "text": "群 TO"})
        self.assertTrue(r.pump(10, until=lambda g: r.sendmsgs()), "no SENDMSG")
        no, _, _, cmd, extra, _ = r.sendmsgs()[0]
        self.assertEqual(cmd & (ENCRYPTOPT | ENCEXTMSGOPT), ENCRYPTOPT | ENCEXTMSGOPT, hex(cmd))
        _, plain = py_decrypt(extra.decode(), no, r.priv, ours)
        bob = self.wire_user(b)
        self.assertEqual(plain, compose("群 TO", "", "TO:raw:script\a%s:test\a" % bob))
        self.wait_text(b, "群 TO")
        # The Python peer -> dengon: the other recipients appear, ourselves left out.
        alice = self.wire_user(a)
        r.encrypted("127.0.0.2", "from the script", 0x41900004,
                    tolist="TO:%s:test\araw:script\aeve:elsewhere\a" % alice)
        m = self.wait_text(a, "from the script")
        self.assertTrue(m["verified"], m)
        self.assertEqual(m["to"], ["raw@script", "eve@elsewhere"], m)
        # A malformed list: the message stands, without a list.
        r.encrypted("127.0.0.2", "bad list", 0x41900004, tolist="TO:nobody")
        m = self.wait_text(a, "bad list")
        self.assertTrue(m["verified"], m)
        self.assertNotIn("to", m)
        self.assert_clean_exit(a)
        self.assert_clean_exit(b)

    # ---- raw peers ----

    def test_legacy_peer_rsa1024_blowfish_both_ways(self):
        a = self.node("alice", "127.0.0.2", peers=["127.0.0.5"])
        r = self.peer(bits=1024, capa=CAPA_LEGACY, user="old")
        r.entry("127.0.0.2")
        # The daemon asks for our key as soon as it sees ENCRYPTOPT, and pins it.
        r.pump(5, until=lambda g: any(x[3] & 0xFF == GETPUBKEY for x in g))
        wait_until(lambda: "old@script" in self.keys(a), what="legacy key pinned")
        self.assertEqual(self.keys(a)["old@script"]["bits"], 1024)
        # daemon -> legacy peer: Blowfish, unsigned.
        res = {}
        threading.Thread(target=lambda: res.setdefault(
            "r", a.result("chat.send", {"to": ["old@script"], "text": JAPANESE, "wait": True})),
            daemon=True).start()
        self.assertTrue(r.pump(10, until=lambda g: r.sendmsgs()), "no SENDMSG")
        no, _, _, cmd, extra, _ = r.sendmsgs()[0]
        self.assertTrue(cmd & ENCRYPTOPT, hex(cmd))
        capa, plain = py_decrypt(extra.decode(), no, r.priv, None)
        self.assertEqual(capa, CAPA_LEGACY)
        self.assertEqual(plain, compose(JAPANESE))
        wait_until(lambda: "r" in res, what="chat.send answered")
        self.assertEqual(res["r"]["recipients"][0]["state"], "delivered")
        # legacy peer -> daemon: the daemon answers a GETPUBKEY without RSA_2048 with its 1024-bit key.
        key = r.fetch_key("127.0.0.2")
        self.assertEqual(key.key_size, 1024)
        r.encrypted("127.0.0.2", "古いピア 🐡 blowfish", CAPA_LEGACY, sign=False)
        m = self.wait_text(a, "古いピア 🐡 blowfish")
        self.assertTrue(m["encrypted"], m)
        self.assertFalse(m["verified"], m)
        self.assertIn("unsigned", m["verify_note"])
        self.assert_clean_exit(a)

    def pinned_modern_peer(self, a, **kw):
        r = self.peer(**kw)
        r.entry("127.0.0.2")
        r.pump(5, until=lambda g: any(x[3] & 0xFF == GETPUBKEY for x in g))
        wait_until(lambda: "raw@script" in self.keys(a), what="key pinned")
        r.fetch_key("127.0.0.2")
        return r

    def test_tampered_messages_rejected_with_error_reply(self):
        a = self.node("alice", "127.0.0.2", peers=["127.0.0.5"])
        r = self.pinned_modern_peer(a)
        capa = 0x41900004
        r.encrypted("127.0.0.2", "genuine ✅", capa)
        m = self.wait_text(a, "genuine ✅")
        self.assertTrue(m["encrypted"] and m["verified"], m)

        def flip_body(extra):
            f = extra.split(":")
            body = bytearray(base64.b64decode(f[2]))
            body[len(body) // 2] ^= 0x01
            f[2] = base64.b64encode(bytes(body)).decode()
            return ":".join(f)

        def flip_sig(extra):
            f = extra.split(":")
            sig = bytearray(base64.b64decode(f[3]))
            sig[10] ^= 0x80
            f[3] = base64.b64encode(bytes(sig)).decode()
            return ":".join(f)

        for name, fn in (("body", flip_body), ("signature", flip_sig)):
            r.got.clear()
            no = r.encrypted("127.0.0.2", "forged %s" % name, capa, tamper=fn)
            self.assertTrue(r.pump(5, until=lambda g: [x for x in g if x[3] & 0xFF == SENDMSG]),
                            "no error auto-reply for a tampered %s" % name)
            reply = [x for x in r.got if x[3] & 0xFF == SENDMSG][0]
            self.assertEqual(reply[3] & (NOLOGOPT | AUTORETOPT), NOLOGOPT | AUTORETOPT)
            self.assertFalse(reply[3] & ENCRYPTOPT)
            self.assertIn(b"could not be decrypted", reply[4])
            ev = wait_until(lambda: [e for e in self.events(a, "crypto.message.rejected")
                                     if e["packet_no"] == str(no)], what="rejected event")
            self.assertEqual(ev[0]["from"], "raw@script")
            self.assertTrue(ev[0]["reason"], ev)
        self.assertEqual(len(self.events(a, "crypto.message.rejected")), 2)
        self.assertFalse([m for m in self.inbox(a) if m["text"].startswith("forged")])
        self.assert_clean_exit(a)

    def test_key_change_warns_marks_unverified_until_accepted(self):
        a = self.node("alice", "127.0.0.2", peers=["127.0.0.5"])
        r = self.pinned_modern_peer(a)
        old_fp = self.keys(a)["raw@script"]["fingerprint"]
        # The peer restarts with another key (reinstalled, or someone else):
        # its BR_ENTRY makes the daemon ask for the key again.
        r.priv = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        r.got.clear()
        r.entry("127.0.0.2")
        self.assertTrue(r.pump(5, until=lambda g: any(x[3] & 0xFF == GETPUBKEY for x in g)))
        ev = wait_until(lambda: self.events(a, "crypto.key.changed"), what="key.changed")[0]
        self.assertEqual(ev["peer"], "raw@script")
        self.assertEqual(ev["old_fingerprint"], old_fp)
        k = self.keys(a)["raw@script"]
        self.assertEqual(k["trust"], "changed")
        self.assertNotEqual(k["new_fingerprint"], old_fp)
        human = a.cli("keys")
        self.assertIn("NEW KEY", human.out)
        # Its messages are not shown as verified; nothing is encrypted to the new key.
        r.encrypted("127.0.0.2", "signed by the new key", 0x41900004)
        m = self.wait_text(a, "signed by the new key")
        self.assertFalse(m["verified"], m)
        self.assertIn("changed key", m["verify_note"])
        resp = a.call("chat.send", {"to": ["raw@script"], "text": "to an unverified key"})
        self.assertIn("error", resp)
        self.assertIn("keys accept", resp["error"]["message"])
        # The user accepts: verified again, and messages are encrypted to the new key.
        acc = a.cli("keys", "accept", "raw@script", json_out=True)
        self.assertEqual(acc.rc, 0, acc.err)
        self.assertEqual(self.keys(a)["raw@script"]["trust"], "trusted")
        self.assertTrue(self.events(a, "crypto.key.accepted"))
        r.encrypted("127.0.0.2", "after accept", 0x41900004)
        self.assertTrue(self.wait_text(a, "after accept")["verified"])
        r.got.clear()
        a.result("chat.send", {"to": ["raw@script"], "text": "encrypted to the new key"})
        self.assertTrue(r.pump(5, until=lambda g: r.sendmsgs()))
        no, _, _, cmd, extra, _ = r.sendmsgs()[0]
        self.assertTrue(cmd & ENCRYPTOPT)
        _, plain = py_decrypt(extra.decode(), no, r.priv, r.peer_keys["127.0.0.2"])
        self.assertEqual(plain, compose("encrypted to the new key"))
        bad = a.cli("keys", "accept", "nobody@nowhere")
        self.assertNotEqual(bad.rc, 0)
        self.assert_clean_exit(a)

    def test_fingerprinted_user_names_are_checked(self):
        a = self.node("alice", "127.0.0.2", peers=["127.0.0.5"])
        liar = self.peer(user="liar-<0123456789abcdef>")
        liar.entry("127.0.0.2")
        liar.pump(5, until=lambda g: any(x[3] & 0xFF == GETPUBKEY for x in g))
        ev = wait_until(lambda: self.events(a, "crypto.key.rejected"), what="key rejected")[0]
        self.assertEqual(ev["peer"], "liar@script")  # keys leave the field out
        self.assertEqual(ev["user"], "liar-<0123456789abcdef>")
        self.assertNotIn(ev["peer"], self.keys(a))
        liar.close()
        honest = self.peer()
        honest.user = "honest-<%s>" % fingerprint(honest.priv.public_key())
        honest.entry("127.0.0.2")
        honest.pump(5, until=lambda g: any(x[3] & 0xFF == GETPUBKEY for x in g))
        wait_until(lambda: "honest@script" in self.keys(a), what="fingerprinted key pinned")
        self.assertEqual(len(self.events(a, "crypto.key.rejected")), 1)
        self.assert_clean_exit(a)

    def test_pinned_peer_without_encryption_gets_no_plaintext(self):
        a = self.node("alice", "127.0.0.2", peers=["127.0.0.5"])
        r = self.pinned_modern_peer(a)
        # The peer now announces itself without ENCRYPTOPT.
        r.entry("127.0.0.2", status=CAPUTF8OPT, mode=BR_ABSENCE)
        time.sleep(0.5 * SLOW)
        r.got.clear()
        resp = a.call("chat.send", {"to": ["raw@script"], "text": "must not go in clear"})
        self.assertIn("error", resp)
        self.assertIn("no longer offers encryption", resp["error"]["message"])
        r.pump(1)
        self.assertFalse(r.sendmsgs(), "a SENDMSG reached the peer")
        # The user may allow it explicitly.
        a.result("config.set", {"key": "crypto.allow_plaintext_to_pinned", "value": "true"})
        wait_until(lambda: "error" not in a.call(
            "chat.send", {"to": ["raw@script"], "text": "allowed in clear"}), what="allowed")
        self.assertTrue(r.pump(5, until=lambda g: r.sendmsgs()))
        self.assertFalse(r.sendmsgs()[0][3] & ENCRYPTOPT)
        self.assert_clean_exit(a)


if __name__ == "__main__":
    unittest.main()
