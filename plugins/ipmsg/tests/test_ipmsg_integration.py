"""End-to-end tests of the ipmsg plugin: real dengond processes on 127.0.0.2-4
talking IP Messenger to each other with static host lists, and a raw IPMsg peer
written in Python on 127.0.0.5/6 (docs/ipmsg-protocol.md §4).

All traffic stays on 127.0.0.x: daemons bound to a loopback address send no
broadcasts (net.c), and every host list names loopback addresses only.
Events are checked through the test-only "evrec" plugin (evrec.events).
"""
import os
import socket
import time
import unittest

from dgtest import BUILD_DIR, SLOW, DaemonTestCase, free_port, wait_until

# Free on every address this test binds: another run of the suite on the same
# machine (another build tree) must not share the daemons' sockets.
PORT = free_port(("127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6"))
PLUGINS = os.path.join(BUILD_DIR, "lib", "dengon", "plugins")
TEST_PLUGINS = os.path.join(BUILD_DIR, "tests", "ipmsg-plugins")

SENDMSG, RECVMSG, READMSG, ANSREADMSG = 0x20, 0x21, 0x30, 0x32
BR_ENTRY, BR_EXIT, ANSENTRY = 0x01, 0x02, 0x03
GETINFO, SENDINFO, GETABSENCEINFO, SENDABSENCEINFO = 0x40, 0x41, 0x50, 0x51
SENDCHECKOPT, SECRETOPT, AUTORETOPT, MULTICASTOPT = 0x100, 0x200, 0x2000, 0x800
READCHECKOPT, UTF8OPT, CAPUTF8OPT, ABSENCEOPT = 0x100000, 0x800000, 0x1000000, 0x100

JAPANESE = "こんにちは、世界！ 伝言テスト 🎉🍣"


def packet(no, user, host, cmd, extra=b"", tail=b""):
    if isinstance(extra, str):
        extra = extra.encode()
    return b"1:%d:%s:%s:%d:" % (no, user.encode(), host.encode(), cmd) + extra + b"\0" + tail


def parse(data):
    """(packet_no, user, host, command, extra bytes) of a datagram."""
    head, _, _ = data.partition(b"\0")
    parts = head.split(b":", 5)
    return int(parts[1]), parts[2].decode(), parts[3].decode(), int(parts[4]), parts[5]


class RawPeer:
    """A scripted IPMsg client on its own loopback address."""

    def __init__(self, addr, user="raw", host="script"):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((addr, PORT))
        self.sock.settimeout(0.2)
        self.user, self.host = user, host
        self.no = 5000

    def close(self):
        self.sock.close()

    def send(self, to, data):
        self.sock.sendto(data, (to, PORT))

    def packet(self, cmd, extra=b"", tail=b"", no=None):
        self.no += 1
        return packet(no or self.no, self.user, self.host, cmd, extra, tail)

    def entry(self, to, nick, uuid=None, cmd=BR_ENTRY | CAPUTF8OPT):
        block = "\nUN:%s\nHN:%s\nNN:%s\nGN:" % (self.user, self.host, nick)
        if uuid:
            block += "\nDGUUID:" + uuid
        self.send(to, self.packet(cmd, nick, b"\0" + block.encode()))

    def recv_all(self, seconds=1.0):
        got, deadline = [], time.monotonic() + seconds * SLOW
        while time.monotonic() < deadline:
            try:
                data, _ = self.sock.recvfrom(65536)
                got.append(parse(data))
            except socket.timeout:
                pass
        return got

    def wait_for(self, mode, seconds=5.0):
        deadline = time.monotonic() + seconds * SLOW
        while time.monotonic() < deadline:
            try:
                data, _ = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            p = parse(data)
            if p[3] & 0xFF == mode:
                return p
        raise AssertionError("no packet with command 0x%x" % mode)


class IpmsgTestCase(DaemonTestCase):
    def node(self, name, addr, peers=(), options=(), start=True):
        opts = [
            "ipmsg.bind_address=" + addr,
            "ipmsg.port=%d" % PORT,
            "identity.user=" + name,
            "identity.host=test",
            "ipmsg.hosts=" + ",".join("%s:%d" % (p, PORT) for p in peers),
            "ipmsg.announce_interval_s=0",
            # The ipmsg plugin alone: the files plugin (staged beside it, on by
            # default) would add FILEATTACHOPT to every status word (files tests).
            "plugins.files.enabled=false",
            # and without encryption (the crypto plugin tests it): these check exact status words.
            "plugins.crypto.enabled=false",
        ] + list(options)
        d = self.daemon(name, plugin_dirs=[PLUGINS, TEST_PLUGINS], options=opts)
        # The nickname goes in the user file, not -o: config.set (user layer) can then change it.
        os.makedirs(os.path.join(d.home, "config"), exist_ok=True)
        with open(os.path.join(d.home, "config", "dengon.ini"), "w") as f:
            f.write("[identity]\nnickname = %s\n" % name.capitalize())
        if start:
            d.start()
            plugins = d.plugins()
            self.assertEqual(plugins["ipmsg"]["state"], "active", plugins)
        return d

    def users(self, d):
        """The live peer table (ipmsg.peers); the users plugin's list is users.list."""
        return {u["key"]: u for u in d.result("ipmsg.peers")}

    def wait_listed(self, d, key, status="online"):
        """Waits until the users plugin (dengon users) shows key with status."""
        return wait_until(lambda: [u for u in d.result("users.list", {"all": True})
                                   if u["key"] == key and u["status"] == status],
                          timeout=10, what="%s %s in users.list" % (key, status))

    def events(self, d, topic=None):
        evs = d.result("evrec.events")
        return [e["payload"] for e in evs if topic is None or e["topic"] == topic]

    def wait_user(self, d, key, status="online"):
        return wait_until(lambda: self.users(d).get(key, {}).get("status") == status and
                          self.users(d)[key], timeout=10, what="%s %s" % (key, status))

    def inbox(self, d):
        return d.result("chat.inbox")["messages"]

    def stats(self, d):
        return d.result("ipmsg.stats")

    def raw_peer(self, addr, **kw):
        p = RawPeer(addr, **kw)
        self.addCleanup(p.close)
        return p


class TestDaemons(IpmsgTestCase):
    def test_presence_messages_sealed(self):
        a = self.node("alice", "127.0.0.2", ["127.0.0.3", "127.0.0.4"])
        b = self.node("bob", "127.0.0.3", ["127.0.0.2", "127.0.0.4"])
        c = self.node("carol", "127.0.0.4", ["127.0.0.2", "127.0.0.3"])

        # Presence both ways, with names, capabilities and the dengon UUID.
        for d, others in ((a, ("bob", "carol")), (b, ("alice", "carol")), (c, ("alice", "bob"))):
            for o in others:
                u = self.wait_user(d, o + "@test")
                self.assertEqual(u["nickname"], o.capitalize())
                self.assertTrue(u["utf8"])
                self.assertEqual(len(u["uuid"]), 36)
        self.assertEqual(self.users(a)["bob@test"]["address"], "127.0.0.3:%d" % PORT)
        self.assertTrue(any(e["key"] == "bob@test" for e in self.events(a, "presence.changed")))
        self.assertEqual(b.result("ipmsg.peer", {"user": "Alice"})["key"], "alice@test")

        # Japanese + emoji, acknowledged: wait=true answers after RECVMSG.
        r = a.result("chat.send", {"to": "bob@test", "text": JAPANESE, "wait": True})
        self.assertEqual(r["recipients"][0]["state"], "delivered", r)
        # The whole answer (written as JSON text by the plugin, not as a tree).
        self.assertEqual(sorted(r), ["id", "recipients", "sealed", "time"])
        self.assertIsInstance(r["id"], int)
        self.assertIs(r["sealed"], False)
        self.assertEqual(r["recipients"], [{"key": "bob@test", "nickname": "Bob",
                                            "address": "127.0.0.3:%d" % PORT,
                                            "state": "delivered", "opened": False}])
        msgs = wait_until(lambda: self.inbox(b), what="message at bob")
        self.assertEqual(msgs[-1]["text"], JAPANESE)
        self.assertEqual(msgs[-1]["from"], "alice@test")
        self.assertEqual(msgs[-1]["nickname"], "Alice")
        rec = wait_until(lambda: self.events(b, "chat.message.received"), what="received event")
        self.assertEqual(rec[-1]["text"], JAPANESE)
        dlv = wait_until(lambda: self.events(a, "chat.message.delivered"), what="delivered event")
        self.assertEqual((dlv[-1]["id"], dlv[-1]["to"]), (r["id"], "bob@test"))
        self.assertEqual(self.events(a, "chat.message.sent")[-1]["text"], JAPANESE)

        # CR LF becomes LF; an 8 KB+ text (multi-byte) arrives whole.
        big = ("日本語の長いメッセージ🎌\r\n" * 300)
        self.assertGreater(len(big.encode()), 8192)
        r = a.result("chat.send", {"to": "127.0.0.4", "text": big, "wait": True})
        self.assertEqual(r["recipients"][0]["state"], "delivered", r)
        got = wait_until(lambda: [m for m in self.inbox(c) if m["id"] and len(m["text"]) > 1000],
                         what="big message")
        self.assertEqual(got[-1]["text"], big.replace("\r\n", "\n"))

        # Several recipients: one id, per-recipient delivery state.
        r = a.result("chat.send", {"to": ["Bob", "carol@test"], "text": "to both", "wait": True})
        self.assertEqual(sorted(x["state"] for x in r["recipients"]), ["delivered", "delivered"])
        for d in (b, c):
            m = wait_until(lambda: [m for m in self.inbox(d) if m["text"] == "to both"],
                           what="multicast")[-1]
            self.assertTrue(m["multicast"])

        # Sealed: no text in the inbox until read; reading tells the sender.
        r = a.result("chat.send", {"to": "bob@test", "text": "秘密", "seal": True, "wait": True})
        sealed = wait_until(lambda: [m for m in self.inbox(b) if m["sealed"]], what="sealed")[-1]
        self.assertNotIn("text", sealed)
        self.assertFalse(sealed["opened"])
        opened = b.result("chat.read", {"id": str(sealed["id"])})
        self.assertEqual(opened["text"], "秘密")
        ev = wait_until(lambda: self.events(a, "chat.message.opened"), what="opened event")
        self.assertEqual((ev[-1]["id"], ev[-1]["to"]), (r["id"], "bob@test"))
        wait_until(lambda: self.stats(b)["pending"] == 0, what="ANSREADMSG stops READMSG retries")
        self.assertEqual(self.stats(a)["opened"], 1)
        self.assertEqual(b.result("chat.inbox", {"unread": True})["unread"],
                         len([m for m in self.inbox(b) if not m["opened"]]))

        # Bad requests are refused with a reason, nothing is sent.
        for params, what in (({"to": "nobody", "text": "x"}, "unknown recipient"),
                             ({"to": "bob@test", "text": ""}, "non-empty"),
                             ({"to": "bob@test", "text": "x", "colour": 1}, "unknown parameter"),
                             ({"to": "bob@test", "text": "x" * 40000}, "does not fit")):
            resp = a.call("chat.send", params)
            self.assertIn("error", resp, params)
            self.assertIn(what, resp["error"]["message"])

        # Nickname change -> BR_ABSENCE; absence mode -> absent + its text.
        a.result("config.set", {"key": "identity.nickname", "value": "Alice W."})
        wait_until(lambda: self.users(b)["alice@test"]["nickname"] == "Alice W.",
                   what="new nickname at bob")
        a.result("config.set", {"key": "ipmsg.absence_text", "value": "昼休み"})
        a.result("config.set", {"key": "ipmsg.absence", "value": "true"})
        u = wait_until(lambda: self.users(c)["alice@test"].get("absence") == "昼休み" and
                       self.users(c)["alice@test"], what="absence at carol")
        self.assertEqual(u["status"], "absent")
        # Direct messages to an absent user get the absence text back (AUTORETOPT, not acked).
        c.result("chat.send", {"to": "alice@test", "text": "lunch?", "wait": True})
        auto = wait_until(lambda: [m for m in self.inbox(c) if m["auto_reply"]], what="auto reply")
        self.assertEqual(auto[-1]["text"], "昼休み")

        # BR_EXIT (twice) marks the user offline at the others; the daemon exits cleanly.
        self.assert_clean_exit(b)
        for d in (a, c):
            self.wait_user(d, "bob@test", "offline")
            self.assertIn("offline", [e["change"] for e in self.events(d, "presence.changed")
                                      if e["key"] == "bob@test"])
        self.assert_clean_exit(a)
        self.assert_clean_exit(c)

    def test_retries_then_failed(self):
        a = self.node("alice", "127.0.0.2", ["127.0.0.3"],
                      ["ipmsg.retry_interval_ms=150", "ipmsg.retries=3"])
        b = self.node("bob", "127.0.0.3", ["127.0.0.2"])
        self.wait_user(a, "bob@test")
        b.kill()  # no BR_EXIT: the peer just vanished
        t0 = time.monotonic()
        r = a.result("chat.send", {"to": "bob@test", "text": "are you there?", "wait": True})
        self.assertEqual(r["recipients"][0]["state"], "failed", r)
        self.assertGreaterEqual(time.monotonic() - t0, 0.5)  # 3 retries 150 ms apart
        st = self.stats(a)
        self.assertEqual((st["retries"], st["failed"], st["pending"]), (3, 1, 0))
        ev = wait_until(lambda: self.events(a, "chat.message.failed"), what="failed event")
        self.assertEqual((ev[-1]["id"], ev[-1]["to"]), (r["id"], "bob@test"))
        self.assertIn("no answer", ev[-1]["reason"])
        # Without wait the answer comes at once, with the recipient still "sending".
        r = a.result("chat.send", {"to": "bob@test", "text": "again"})
        self.assertEqual(r["recipients"][0]["state"], "sending")
        self.assert_clean_exit(a)


class TestCli(IpmsgTestCase):
    """The real `dengon` CLI (users, send, inbox, read) against two daemons."""

    def cli(self, d, *args, **kw):
        r = d.cli(*args, **kw)
        self.assertNotIn("Sanitizer", r.err, r)
        self.assertNotIn("runtime error", r.err, r)
        return r

    def test_chat_commands(self):
        a = self.node("alice", "127.0.0.2", ["127.0.0.3"],
                      ["ipmsg.retry_interval_ms=200", "ipmsg.retries=2"])
        b = self.node("bob", "127.0.0.3", ["127.0.0.2"])
        self.wait_user(a, "bob@test")
        self.wait_user(b, "alice@test")
        self.wait_listed(a, "bob@test")

        # users (the users plugin): a table for humans, the raw list with --json.
        r = self.cli(a, "users")
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(r.out.splitlines()[0].split(),
                         ["NICKNAME", "GROUP", "STATUS", "PRIORITY", "KEY", "ADDRESS"])
        row = [line.split() for line in r.out.splitlines() if "bob@test" in line]
        self.assertEqual(row, [["Bob", "-", "online", "medium", "bob@test",
                                "127.0.0.3:%d" % PORT]], r)
        r = self.cli(a, "users", json_out=True)
        self.assertEqual(r.rc, 0, r)
        self.assertEqual([u["key"] for u in r.json()], ["bob@test"])
        self.assertEqual(r.json()[0]["nickname"], "Bob")
        self.assertIn("bob@test", self.cli(a, "users", "--all").out)

        # send to a nickname: acknowledged, exit 0; arrives whole.
        r = self.cli(a, "send", "Bob", JAPANESE)
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(r.out, "delivered to Bob (bob@test)\n")
        wait_until(lambda: JAPANESE in [m.get("text") for m in self.inbox(b)], what="CLI message")

        # An unknown recipient: exit 1, the daemon's reason on stderr, nothing sent.
        r = self.cli(a, "send", "nobody", "x")
        self.assertEqual(r.rc, 1, r)
        self.assertEqual(r.out, "")
        self.assertIn("unknown recipient 'nobody'", r.err)
        r = self.cli(a, "send", "nobody", "x", json_out=True)
        self.assertEqual(r.rc, 1, r)
        self.assertIn("unknown recipient", r.json()["error"]["message"])
        self.assertEqual(self.cli(a, "send", "Bob").rc, 2)  # a message is needed
        self.assertEqual(self.cli(a, "users", "--seal").rc, 2)  # not an option of users

        # --seal anywhere before "--": after the recipient (with --json) and first.
        text = "封書 via the CLI\nsecond line"
        r = self.cli(a, "send", "bob@test", "--seal", text, json_out=True)
        self.assertEqual(r.rc, 0, r)
        sent = r.json()
        self.assertTrue(sent["sealed"])
        self.assertEqual([x["state"] for x in sent["recipients"]], ["delivered"])
        r = self.cli(a, "send", "--seal", "Bob", "--", "-) also sealed")
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(r.out, "delivered to Bob (bob@test), sealed\n")

        # The receiver's inbox: sealed messages show a placeholder, not their text.
        def sealed_at_b():
            got = [m for m in self.inbox(b) if m["sealed"]]
            return got if len(got) == 2 else None
        first, second = wait_until(sealed_at_b, what="two sealed messages")
        r = self.cli(b, "inbox")
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(r.out.splitlines()[0].split(), ["ID", "TIME", "FROM", "FLAGS", "TEXT"])
        self.assertIn("[sealed: dengon read %d]" % first["id"], r.out)
        self.assertIn("[sealed: dengon read %d]" % second["id"], r.out)
        self.assertNotIn("封書", r.out)
        self.assertNotIn("also sealed", r.out)
        self.assertIn(JAPANESE, r.out)
        self.assertIn("Alice (alice@test)", r.out)
        r = self.cli(b, "inbox", json_out=True)
        self.assertEqual(r.rc, 0, r)
        listing = r.json()
        self.assertEqual(listing["unread"], 3)
        sealed = [m for m in listing["messages"] if m["sealed"]]
        self.assertEqual([m["id"] for m in sealed], [first["id"], second["id"]])
        self.assertTrue(all("text" not in m for m in sealed))

        # read ID opens it: the full text here, the opened notice at the sender.
        r = self.cli(b, "read", str(first["id"]))
        self.assertEqual(r.rc, 0, r)
        lines = r.out.split("\n")
        self.assertEqual(lines[0], "From: Alice (alice@test) at 127.0.0.2:%d" % PORT)
        self.assertTrue(lines[1].startswith("Time: 20"), r.out)
        self.assertEqual(lines[2], "Flags: sealed,opened")
        self.assertEqual(r.out.split("\n\n", 1)[1], text + "\n")
        ev = wait_until(lambda: self.events(a, "chat.message.opened"), what="opened event")
        self.assertEqual((ev[-1]["id"], ev[-1]["to"]), (sent["id"], "bob@test"))
        self.assertEqual(self.stats(a)["opened"], 1)
        r = self.cli(b, "inbox", "--unread", json_out=True)
        self.assertEqual(r.rc, 0, r)
        self.assertEqual([m["id"] for m in r.json()["messages"] if m["sealed"]], [second["id"]])
        self.assertIn("封書 via the CLI", self.cli(b, "inbox").out)
        # Unknown or malformed ids: exit 1 with the daemon's reason.
        r = self.cli(b, "read", "999999")
        self.assertEqual(r.rc, 1, r)
        self.assertIn("no message 999999", r.err)
        r = self.cli(b, "read", "abc")
        self.assertEqual(r.rc, 1, r)
        self.assertIn("message id", r.err)

        # Every recipient failed: exit 1, one line saying why.
        self.assert_clean_exit(b)
        self.wait_user(a, "bob@test", "offline")
        self.wait_listed(a, "bob@test", "offline")
        r = self.cli(a, "users")
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(r.out, "no users online; 'dengon users --all' also lists offline and hidden "
                                "ones\n")
        self.assertIn("bob@test", self.cli(a, "users", "--all").out)
        r = self.cli(a, "send", "bob@test", "still there?")
        self.assertEqual(r.rc, 1, r)
        self.assertEqual(r.out, "failed: Bob (bob@test): no answer\n")
        r = self.cli(a, "send", "bob@test", "still there?", json_out=True)
        self.assertEqual(r.rc, 1, r)
        self.assertEqual(r.json()["recipients"][0]["state"], "failed")
        self.assert_clean_exit(a)


class TestRawPeer(IpmsgTestCase):
    def test_full_subscriber_delays_but_loses_nothing(self):
        # The recorder's queue holds one event, so a burst of messages finds it
        # full: the host keeps the chat.message.received events waiting
        # (publish_ordered) and delivers every one, in order, as it drains.
        a = self.node("alice", "127.0.0.2", options=["evrec.queue_capacity=1"])
        peer = self.raw_peer("127.0.0.5", user="burst", host="rawpc")
        n = 300
        for i in range(n):
            peer.send("127.0.0.2", peer.packet(SENDMSG | UTF8OPT, "burst %d" % i))

        def burst_texts():
            return [e["text"] for e in self.events(a, "chat.message.received")
                    if e["text"].startswith("burst ")]
        wait_until(lambda: len(burst_texts()) >= n, timeout=20, what="every burst message")
        self.assertEqual(burst_texts(), ["burst %d" % i for i in range(n)])
        self.assertEqual(len(self.inbox(a)), n)
        bus = a.result("core.status")["bus"]
        self.assertGreater(bus["topics"]["chat.message.received"]["deferred"], 0, bus)
        self.assertEqual(bus["waiting"], 0)
        self.assertEqual(bus["waiting_dropped"], 0)
        self.assertEqual(bus["topics"]["chat.message.received"]["rejected"], 0)

    def test_duplicates_malformed_info(self):
        a = self.node("alice", "127.0.0.2")
        peer = self.raw_peer("127.0.0.5", user="rawuser", host="rawpc")

        # A BR_ENTRY is answered with ANSENTRY (UTF-8: we showed CAPUTF8).
        peer.entry("127.0.0.2", "Raw")
        no, user, host, cmd, extra = peer.wait_for(ANSENTRY)
        self.assertEqual((user, host), ("alice", "test"))
        self.assertTrue(cmd & UTF8OPT and cmd & CAPUTF8OPT)
        self.wait_user(a, "rawuser@rawpc")

        # The same SENDMSG twice (a retry): two RECVMSG, one message.
        msg = peer.packet(SENDMSG | SENDCHECKOPT | UTF8OPT, "重複テスト", no=777)
        peer.send("127.0.0.2", msg)
        peer.send("127.0.0.2", msg)
        acks = [p for p in peer.recv_all(1.0) if p[3] & 0xFF == RECVMSG]
        self.assertEqual([p[4] for p in acks], [b"777", b"777"])
        texts = [m["text"] for m in self.inbox(a)]
        self.assertEqual(texts.count("重複テスト"), 1)
        self.assertEqual(self.stats(a)["duplicates"], 1)
        self.assertEqual(len([e for e in self.events(a, "chat.message.received")
                              if e["text"] == "重複テスト"]), 1)

        # No ack for broadcast or automatic replies.
        peer.send("127.0.0.2", peer.packet(SENDMSG | SENDCHECKOPT | AUTORETOPT, "auto"))
        peer.send("127.0.0.2", peer.packet(SENDMSG | SENDCHECKOPT | 0x400, "bcast"))
        self.assertFalse([p for p in peer.recv_all(0.5) if p[3] & 0xFF == RECVMSG])

        # Legacy (CP932) text without UTF8OPT is decoded with the legacy code page.
        peer.send("127.0.0.2", peer.packet(SENDMSG, "日本語".encode("cp932")))
        wait_until(lambda: "日本語" in [m["text"] for m in self.inbox(a)], what="CP932 text")

        # Sealed from a raw peer: READMSG with READCHECKOPT when read, retried until ANSREADMSG.
        peer.send("127.0.0.2", peer.packet(SENDMSG | SENDCHECKOPT | SECRETOPT | READCHECKOPT |
                                           UTF8OPT, "封書", no=888))
        peer.wait_for(RECVMSG)
        m = wait_until(lambda: [m for m in self.inbox(a) if m["packet_no"] == 888], what="sealed")
        a.result("chat.read", {"id": m[0]["id"]})
        rno, _, _, rcmd, rextra = peer.wait_for(READMSG)
        self.assertEqual(rextra, b"888")
        self.assertTrue(rcmd & READCHECKOPT)
        peer.send("127.0.0.2", peer.packet(ANSREADMSG, str(rno)))
        wait_until(lambda: self.stats(a)["pending"] == 0, what="READMSG acked")

        # Version and absence queries.
        peer.send("127.0.0.2", peer.packet(GETINFO))
        self.assertIn(b"dengon", peer.wait_for(SENDINFO)[4])
        peer.send("127.0.0.2", peer.packet(GETABSENCEINFO))
        self.assertEqual(peer.wait_for(SENDABSENCEINFO)[4], b"Not absence mode")

        # Malformed, oversize, unknown: counted and dropped; the daemon keeps running.
        before = self.stats(a)
        for junk in (b"", b"garbage", b"2:1:u:h:32:x\0", b"1:1::h:32:x\0", b"1:x:u:h:32:\0",
                     b"1:1:u:h:99999999999:x\0", b"\xff" * 100):
            peer.send("127.0.0.2", junk)
        peer.send("127.0.0.2", b"1:1:u:h:32:" + b"x" * 40000)
        peer.send("127.0.0.2", peer.packet(0x99, "?"))
        peer.send("127.0.0.2", peer.packet(0xb2, "member master"))
        wait_until(lambda: self.stats(a)["rx_packets"] >= before["rx_packets"] + 10,
                   what="junk received")
        after = self.stats(a)
        self.assertEqual(after["malformed"] - before["malformed"], 7)
        self.assertEqual(after["oversize"] - before["oversize"], 1)
        self.assertEqual(after["unknown"] - before["unknown"], 1)
        self.assertEqual(after["unsupported"] - before["unsupported"], 1)
        self.assertIn("version", a.result("core.status"))

        # BR_EXIT marks the raw peer offline.
        peer.send("127.0.0.2", peer.packet(BR_EXIT, "Raw"))
        self.wait_user(a, "rawuser@rawpc", "offline")
        self.assert_clean_exit(a)

    def test_same_identity_on_new_host_merges(self):
        a = self.node("alice", "127.0.0.2")
        uuid = "6f1c2a9e-8b1d-4c3e-9f7a-2b4c6d8e0f12"
        old = self.raw_peer("127.0.0.5", user="dave", host="oldpc")
        old.entry("127.0.0.2", "Dave", uuid)
        self.wait_user(a, "dave@oldpc")
        new = self.raw_peer("127.0.0.6", user="dave", host="newpc")
        new.entry("127.0.0.2", "Dave", uuid.upper())  # case does not matter
        u = self.wait_user(a, "dave@newpc")
        self.assertNotIn("dave@oldpc", self.users(a))
        self.assertEqual(u["address"], "127.0.0.6:%d" % PORT)
        moved = [e for e in self.events(a, "presence.changed") if e["change"] == "moved"]
        self.assertEqual((moved[-1]["key"], moved[-1]["moved_from"]), ("dave@newpc", "dave@oldpc"))
        self.assert_clean_exit(a)


if __name__ == "__main__":
    unittest.main()
