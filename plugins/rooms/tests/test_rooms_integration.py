"""End-to-end tests of the rooms plugin: three real dengond processes on
127.0.0.2-4 (ipmsg + rooms + the other shipped plugins from the build's
lib/dengon/plugins) talking IP Messenger with static host lists, and a raw
IPMsg peer written in Python on 127.0.0.5 that replays and reorders room
envelopes (docs/protocol/rooms.md).

All traffic stays on 127.0.0.x: daemons bound to a loopback address send no
broadcasts, and every host list names loopback addresses only. Events are
checked with the test-only "qrec" plugin (qrec.events).
"""
import json
import os
import socket
import time
import unittest

from dgtest import BUILD_DIR, DaemonTestCase, SLOW, free_port, wait_until

PLUGINS = os.path.join(BUILD_DIR, "lib", "dengon", "plugins")
TEST_PLUGINS = os.path.join(BUILD_DIR, "tests", "outbox-plugins")
ADDRS = {"alice": "127.0.0.2", "bob": "127.0.0.3", "carol": "127.0.0.4"}
RAW_ADDR = "127.0.0.5"


# Chosen once per run (see free_port).
PORT = free_port(list(ADDRS.values()) + [RAW_ADDR])
SENDMSG, SENDCHECKOPT, UTF8OPT, BR_ENTRY, CAPUTF8OPT = 0x20, 0x100, 0x800000, 0x01, 0x1000000
MARKER = "DGROOM/1 "


def envelope(header, body=""):
    """A room envelope as the protocol defines it: marker, one ASCII JSON line, body."""
    return MARKER + json.dumps(header, separators=(",", ":"), ensure_ascii=True) + "\n" + body


class RawPeer:
    """A scripted IPMsg client that sends room envelopes as plain SENDMSG text."""

    def __init__(self, addr, user="raw", host="script"):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((addr, PORT))
        self.sock.settimeout(0.1)
        self.user, self.host, self.no = user, host, 7000

    def close(self):
        self.sock.close()

    def send_text(self, to_addr, text):
        self.no += 1  # a new packet number: ipmsg's own duplicate filter does not see a replay
        head = b"1:%d:%s:%s:%d:" % (self.no, self.user.encode(), self.host.encode(),
                                    SENDMSG | SENDCHECKOPT | UTF8OPT)
        self.sock.sendto(head + text.encode() + b"\0", (to_addr, PORT))


class RoomsTestCase(DaemonTestCase):
    def node(self, name, options=()):
        peers = [a for n, a in ADDRS.items() if n != name]
        opts = [
            "ipmsg.bind_address=" + ADDRS[name],
            "ipmsg.port=%d" % PORT,
            "identity.user=" + name,
            "identity.host=test",
            "identity.nickname=" + name.capitalize(),
            "ipmsg.hosts=" + ",".join("%s:%d" % (p, PORT) for p in peers),
            "ipmsg.announce_interval_s=0",
            "ipmsg.retry_interval_ms=200",
            "rooms.join_timeout_ms=1500",
        ] + list(options)
        d = self.daemon(name, plugin_dirs=[PLUGINS, TEST_PLUGINS], options=opts)
        d.start()
        self.check_plugins(d)
        return d

    def check_plugins(self, d):
        plugins = d.plugins()
        for p in ("ipmsg", "rooms", "qrec"):
            self.assertEqual(plugins[p]["state"], "active", plugins[p])

    def restart(self, d):
        d.start()
        self.check_plugins(d)

    def peer_online(self, d, key):
        r = d.call("ipmsg.peer", {"user": key})
        if "error" in r:  # older ipmsg without ipmsg.peer
            r = d.call("users.get", {"user": key})
        return r.get("result", {}).get("status") in ("online", "absent")

    def wait_mesh(self, nodes):
        for d in nodes:
            for o in nodes:
                if o is not d:
                    key = os.path.basename(o.home) + "@test"
                    wait_until(lambda: self.peer_online(d, key), timeout=15,
                               what="%s sees %s" % (os.path.basename(d.home), key))

    def rooms(self, d):
        return {r["name"]: r for r in d.result("room.list")}

    def log(self, d, room):
        return d.result("room.log", {"room": room})["messages"]

    def posts(self, d, room):
        return [m for m in self.log(d, room) if m["kind"] == "post"]

    def members(self, d, room):
        return sorted(m["key"] for m in self.rooms(d)[room]["members"])

    def events(self, d, topic):
        return [e["payload"] for e in d.result("qrec.events") if e["topic"] == topic]

    def stats(self, d):
        return d.result("room.stats")

    def raw_peer(self):
        p = RawPeer(RAW_ADDR)
        self.addCleanup(p.close)
        return p


class TestRooms(RoomsTestCase):
    def test_enabled_after_start_knows_online_peers(self):
        # rooms starts after bob came online: it learns him from the transport's
        # user list (list_users), not from a presence event it never saw.
        a = self.node("alice")
        r = a.cli("plugin", "disable", "rooms")
        self.assertEqual(r.rc, 0, r.err)
        self.assertNotEqual(a.plugins()["rooms"]["state"], "active")
        b = self.node("bob")
        self.wait_mesh([a, b])
        r = a.cli("plugin", "enable", "rooms")
        self.assertEqual(r.rc, 0, r.err)
        self.check_plugins(a)
        a.result("room.create", {"name": "late"})
        wait_until(lambda: self.rooms(b).get("late", {}).get("state") == "available",
                   what="bob hears of #late")

    def test_rooms_among_three_peers(self):
        a, b, c = self.node("alice"), self.node("bob"), self.node("carol")
        self.wait_mesh([a, b, c])

        # A public room: created at alice, announced to the others, joined by name.
        r = a.result("room.create", {"name": "general"})
        self.assertEqual((r["state"], r["private"]), ("member", False))
        gid = r["id"]
        self.assertEqual(len(gid), 32)
        for d in (b, c):
            wait_until(lambda: self.rooms(d).get("general", {}).get("state") == "available",
                       what="announce of #general")
        r = b.result("room.join", {"room": "#general"})
        self.assertEqual((r["id"], r["state"]), (gid, "member"))
        wait_until(lambda: self.members(a, "general") == ["alice@test", "bob@test"],
                   what="alice sees bob join")
        dup = a.call("room.create", {"name": "General"})
        self.assertIn("already exists", dup["error"]["message"])

        # Posts reach the members, in the same order everywhere.
        a.result("room.say", {"room": "general", "text": "hello 日本語 🎉"})
        wait_until(lambda: [p["text"] for p in self.posts(b, "general")] == ["hello 日本語 🎉"],
                   what="bob gets alice's post")
        r = c.result("room.join", {"room": gid})  # by id this time
        self.assertEqual(r["state"], "member")
        # The new member got the history and the membership so far.
        wait_until(lambda: [p["text"] for p in self.posts(c, "general")] == ["hello 日本語 🎉"],
                   what="carol gets the history")
        wait_until(lambda: self.members(c, "general") == ["alice@test", "bob@test", "carol@test"],
                   what="carol sees every member")
        for d in (a, b):
            wait_until(lambda: "carol@test" in self.members(d, "general"), what="carol joined")

        # Three authors at once: the logs converge on one order, (clock, origin, seq).
        for i in range(4):
            for d in (a, b, c):
                d.result("room.say", {"room": "general",
                                      "text": "%s %d" % (os.path.basename(d.home), i)})
        order = lambda d: [(m["origin"], m["seq"]) for m in self.log(d, "general")]
        wait_until(lambda: len(self.posts(a, "general")) == 13 and
                   order(a) == order(b) == order(c), timeout=20, what="logs converge")
        for d in (a, b, c):
            stamps = [(m["clock"], m["origin"], m["seq"]) for m in self.log(d, "general")]
            self.assertEqual(stamps, sorted(stamps))
            # Each author's own posts keep their order.
            for who in ("alice", "bob", "carol"):
                mine = [p["text"] for p in self.posts(d, "general") if p["from"] == who + "@test"]
                self.assertEqual(mine[-4:], ["%s %d" % (who, i) for i in range(4)])
        # Every post was published once as chat.room.message (for the history plugin),
        # and no envelope was published as an ordinary chat message.
        for d in (a, b, c):
            msgs = self.events(d, "chat.room.message")
            self.assertEqual(len(msgs), 13, msgs)
            self.assertEqual(len({(m["origin"], m["seq"]) for m in msgs}), 13)
            self.assertTrue(all(m["room"] == gid and m["transport"] == "rooms" for m in msgs))
            for m in self.events(d, "chat.message.received"):
                self.assertFalse(m["text"].startswith(MARKER), m)
        out = [m for m in self.events(a, "chat.room.message") if m["direction"] == "out"]
        self.assertEqual(sorted(out[-1]["to"]), ["bob@test", "carol@test"])

        # A private room: only the invited see it.
        r = a.result("room.create", {"name": "secret", "private": True})
        sid = r["id"]
        r = a.result("room.invite", {"room": "secret", "users": ["Bob"]})
        self.assertEqual([x["key"] for x in r["invited"]], ["bob@test"])
        wait_until(lambda: self.rooms(b).get("secret", {}).get("state") == "member",
                   what="bob invited")
        a.result("room.say", {"room": "secret", "text": "for bob only"})
        b.result("room.say", {"room": "secret", "text": "bob answers"})
        wait_until(lambda: [p["text"] for p in self.posts(b, "secret")] ==
                   ["for bob only", "bob answers"], what="private posts at bob")
        wait_until(lambda: len(self.posts(a, "secret")) == 2, what="bob's answer at alice")
        time.sleep(0.5 * SLOW)
        self.assertNotIn("secret", self.rooms(c))
        self.assertFalse([m for m in self.events(c, "chat.room.message") if m["room"] == sid])
        self.assertIn("error", c.call("room.log", {"room": sid}))
        r = c.call("room.join", {"room": "secret"})
        self.assertIn("no online dengon peer knows", r["error"]["message"])
        self.assertEqual(self.members(b, "secret"), ["alice@test", "bob@test"])

        # Leaving: bob gets nothing more, alice stops sending to him.
        r = b.result("room.leave", {"room": "general"})
        self.assertEqual(r["state"], "left")
        wait_until(lambda: "bob@test" not in self.members(a, "general"), what="bob left")
        a.result("room.say", {"room": "general", "text": "after bob left"})
        wait_until(lambda: self.posts(c, "general")[-1]["text"] == "after bob left",
                   what="carol still gets posts")
        time.sleep(0.5 * SLOW)
        self.assertNotIn("after bob left", [p["text"] for p in self.posts(b, "general")])
        self.assertIn("not a member", b.call("room.say", {"room": "general", "text": "x"})
                      ["error"]["message"])
        kinds = [m["kind"] for m in self.log(a, "general")]
        self.assertEqual(kinds.count("join"), 3)
        self.assertEqual(kinds.count("leave"), 1)

        # History persists across a restart, and what was said meanwhile arrives (catch-up).
        before = self.log(c, "general")
        self.assert_clean_exit(c)
        a.result("room.say", {"room": "general", "text": "while carol was away"})
        self.restart(c)
        self.assertEqual(self.log(c, "general")[:len(before)], before)
        wait_until(lambda: self.posts(c, "general")[-1]["text"] == "while carol was away",
                   timeout=15, what="carol catches up after her restart")

        for d in (a, b, c):
            self.assert_clean_exit(d)

    def test_duplicates_order_and_bad_envelopes(self):
        a, b = self.node("alice"), self.node("bob")
        self.wait_mesh([a, b])
        gid = a.result("room.create", {"name": "lobby"})["id"]
        wait_until(lambda: "lobby" in self.rooms(b), what="announce")
        b.result("room.join", {"room": "lobby"})
        r = a.result("room.say", {"room": "lobby", "text": "original"})
        wait_until(lambda: len(self.posts(b, "lobby")) == 1, what="post at bob")
        post = self.posts(b, "lobby")[0]
        me = a.result("core.whoami")
        self.assertEqual(post["origin"], me["uuid"].lower())
        self.assertEqual((post["seq"], post["clock"]), (r["seq"], r["clock"]))

        # A raw replay of alice's post (new IPMsg packet number, so ipmsg's filter passes it)
        # and a forgery reusing its (origin, seq) with another text: both are duplicates.
        raw = self.raw_peer()
        head = {"op": "post", "room": gid, "name": "lobby", "private": False,
                "origin": post["origin"], "from": "alice@test", "nick": "Alice",
                "seq": post["seq"], "clock": post["clock"], "time": post["time"]}
        raw.send_text(ADDRS["bob"], envelope(head, "original"))
        raw.send_text(ADDRS["bob"], envelope(head, "replaced?"))
        wait_until(lambda: self.stats(b)["duplicates"] >= 2, what="duplicates counted")
        self.assertEqual([p["text"] for p in self.posts(b, "lobby")], ["original"])
        self.assertEqual(len(self.events(b, "chat.room.message")), 1)

        # Arrival order is not log order: (clock, origin) decides, the same on every node.
        f = "ffffffff-0000-4000-8000-000000000001"
        e = "eeeeeeee-0000-4000-8000-000000000001"
        def op(origin, seq, clock, text):
            return envelope({"op": "post", "room": gid, "origin": origin, "from": "raw@script",
                             "seq": seq, "clock": clock, "time": 1}, text)
        raw.send_text(ADDRS["bob"], op(f, 2, 1001, "f2"))
        raw.send_text(ADDRS["bob"], op(f, 1, 1000, "f1"))
        raw.send_text(ADDRS["bob"], op(e, 1, 1000, "e1"))
        wait_until(lambda: len(self.posts(b, "lobby")) == 4, what="raw posts")
        self.assertEqual([p["text"] for p in self.posts(b, "lobby")],
                         ["original", "e1", "f1", "f2"])
        # bob's clock moved past them: his next post comes last everywhere.
        r = b.result("room.say", {"room": "lobby", "text": "bob after"})
        self.assertGreater(r["clock"], 1001)
        # alice lacks the raw posts (they went to bob only): a sync brings them.
        wait_until(lambda: [p["text"] for p in self.posts(a, "lobby")][-1:] == ["bob after"],
                   what="bob's post at alice")
        a.result("config.set", {"key": "rooms.sync_interval_s", "value": "1"})
        wait_until(lambda: [p["text"] for p in self.posts(a, "lobby")] ==
                   ["original", "e1", "f1", "f2", "bob after"], timeout=15,
                   what="alice syncs the posts she missed")

        # Bad envelopes: counted, and delivered as the ordinary messages they are.
        before = self.stats(b)["malformed"]
        raw.send_text(ADDRS["bob"], MARKER + "{not json}\nhello")
        raw.send_text(ADDRS["bob"], envelope({"op": "post", "room": gid}, "no origin"))
        wait_until(lambda: self.stats(b)["malformed"] >= before + 2, what="malformed counted")
        texts = [m["text"] for m in self.events(b, "chat.message.received")]
        self.assertIn(MARKER + "{not json}\nhello", texts)
        self.assertEqual(len(self.posts(b, "lobby")), 5)
        # Posts for a room bob is not in are ignored.
        raw.send_text(ADDRS["bob"], op(f, 3, 2000, "x").replace(gid, "0" * 32))
        wait_until(lambda: self.stats(b)["ignored"] >= 1, what="unknown room ignored")

        for d in (a, b):
            self.assert_clean_exit(d)

    def test_invited_while_offline(self):
        a, c = self.node("alice"), self.node("carol")
        self.wait_mesh([a, c])
        self.assert_clean_exit(c)  # BR_EXIT: carol is offline for alice
        wait_until(lambda: not self.peer_online(a, "carol@test"), what="carol offline")
        a.result("room.create", {"name": "later", "private": True})
        r = a.result("room.invite", {"room": "later", "users": "carol@test"})
        self.assertEqual((r["sent"], r["unreachable"]), (0, 1))
        a.result("room.say", {"room": "later", "text": "before carol came"})
        # Carol comes back: alice counts her as a member and syncs; carol does not know the
        # room, asks back with nothing, and gets the invitation with the history.
        self.restart(c)
        wait_until(lambda: self.rooms(c).get("later", {}).get("state") == "member", timeout=15,
                   what="carol learns the invitation")
        wait_until(lambda: [p["text"] for p in self.posts(c, "later")] == ["before carol came"],
                   what="carol gets the history")
        self.assertEqual(self.members(c, "later"), ["alice@test", "carol@test"])
        for d in (a, c):
            self.assert_clean_exit(d)


class TestCli(RoomsTestCase):
    def cli(self, d, *args):
        r = d.cli(*args)
        self.assertEqual(r.rc, 0, r)
        return r.out

    def test_room_commands(self):
        a, b = self.node("alice"), self.node("bob")
        self.wait_mesh([a, b])
        out = self.cli(a, "room", "create", "--private", "team")
        self.assertIn("created #team (private, 1 member: Alice (you))", out)
        out = self.cli(a, "room", "invite", "team", "bob@test")
        self.assertIn("invited Bob to #team", out)
        wait_until(lambda: "team" in self.rooms(b), what="invite")
        out = self.cli(b, "room", "say", "team", "line one\nline two")
        self.assertIn("posted to #team: sent to 1 member", out)
        wait_until(lambda: self.posts(a, "team"), what="post")
        out = self.cli(a, "room", "log", "#team")
        lines = out.splitlines()
        self.assertTrue(lines[0].startswith("#team (private, 2 members"), out)
        self.assertIn("* Alice joined", out)
        self.assertIn("* Alice invited Bob", out)
        self.assertTrue(any(l.endswith("Bob: line one") for l in lines), out)
        self.assertIn("    line two", lines)
        out = self.cli(a, "room", "list")
        self.assertEqual(out.splitlines()[0].split(),
                         ["ROOM", "TYPE", "STATE", "MEMBERS", "LAST", "ID"])
        self.assertIn("#team", out)
        listed = json.loads(self.cli(a, "--json", "room", "list"))
        self.assertEqual(listed[0]["name"], "team")
        log = json.loads(self.cli(a, "--json", "room", "log", "team", "--limit", "1"))
        self.assertEqual(len(log["messages"]), 1)
        out = self.cli(b, "room", "leave", "team")
        self.assertIn("left #team", out)
        r = a.cli("room", "say", "nowhere", "x")
        self.assertEqual(r.rc, 1)
        self.assertIn("no room 'nowhere'", r.err)
        r = a.cli("room", "create", "two words")
        self.assertEqual(r.rc, 1)
        self.assertIn("not a room name", r.err)
        r = a.cli("room", "log", "team", "--limit", "0")
        self.assertEqual(r.rc, 2)
        for cmd in (["room", "create"], ["room", "invite"], ["room", "join"], ["room", "leave"],
                    ["room", "list"], ["room", "say"], ["room", "log"]):
            h = a.cli(*cmd, "--help")
            self.assertEqual(h.rc, 0, h)
            self.assertIn("Calls room.", h.out)
        for d in (a, b):
            self.assert_clean_exit(d)


if __name__ == "__main__":
    unittest.main()
