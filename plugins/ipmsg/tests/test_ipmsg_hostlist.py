"""Host list exchange (docs/ipmsg-protocol.md §4.5): BR_ISGETLIST2, OKGETLIST,
GETLIST and ANSLIST pages, with dengond as list server and as requester.

Daemons on 127.0.0.2-8 with static host lists and scripted IPMsg peers in
Python; nothing leaves the loopback range.
"""
import time
import unittest

from dgtest import wait_until
from ipmsg_testlib import (ANSLIST, BR_ENTRY, BR_ISGETLIST2, CAPUTF8OPT, GETLIST, OKGETLIST,
                           RETRYOPT, UTF8OPT, NodeTestCase)

SEP, DUMMY = b"\a", b"\b"


def wire_port(port):
    """The port as Windows writes it in ANSLIST: sin_port printed on little-endian (§4.5)."""
    return ((port >> 8) | (port << 8)) & 0xFFFF


def page(next_start, hosts):
    """An ANSLIST extra: %5d\\a%5d\\a then user\\ahost\\astatus\\aaddr\\aport\\anick\\agroup\\a."""
    out = b"%5d\a%5d\a" % (next_start, len(hosts))
    for h in hosts:
        out += SEP.join(h) + SEP
    return out


class TestHostList(NodeTestCase):

    def entry_fields(self, user, status, addr, nick, group, enc="utf-8"):
        return [user.encode(), b"test", b"%d" % status, addr.encode(), b"%d" % wire_port(self.PORT),
                nick.encode(enc) if nick else DUMMY, group.encode(enc) if group else DUMMY]

    def test_server_pages_reach_a_third_site(self):
        """A list server knows A and B; C knows only the server and gets both, in pages."""
        opts = ["ipmsg.list_server=true", "ipmsg.list_wait_ms=500"]
        s = self.node("server", "127.0.0.2", ["127.0.0.3", "127.0.0.4"], opts)
        a = self.node("alice", "127.0.0.3", ["127.0.0.2"])
        b = self.node("bob", "127.0.0.4", ["127.0.0.2"], nickname="ボブ")
        self.wait_user(s, "alice@test")
        self.wait_user(s, "bob@test")

        # 1000 more hosts announced by a raw peer: far more than one 32 KiB page holds.
        farm = self.raw_peer("127.0.0.5", user="farm", host="farm")
        fakes = ["fake%04d" % i for i in range(1000)]

        def announce_missing():
            known = set(self.users(s))
            missing = [f for f in fakes if f + "@farm" not in known]
            for i, f in enumerate(missing):
                farm.entry("127.0.0.2", "Fake host number %s of the farm" % f, user=f,
                           group="Farm")
                if i % 50 == 49:
                    time.sleep(0.02)  # do not overrun the daemon's socket buffer
            return not missing
        wait_until(announce_missing, timeout=60, interval=1.0, what="1000 fake hosts at the server")
        self.assertEqual(len(self.users(s)), 1002)

        c = self.node("carol", "127.0.0.6", ["127.0.0.2"],
                      ["ipmsg.list_get=true", "ipmsg.list_wait_ms=500"])
        last = wait_until(lambda: self.discovery(c)["host_list"].get("last"), timeout=30,
                          what="the host list exchange to finish")
        self.assertTrue(last["ok"], last)
        self.assertEqual(last["server"], "127.0.0.2:%d" % self.PORT)
        self.assertGreaterEqual(last["pages"], 3)
        self.assertEqual(last["hosts"], 1002)
        self.assertEqual(last["new"], 1002)

        users = self.users(c)
        self.assertEqual(users["alice@test"]["status"], "online")
        self.assertEqual(users["alice@test"]["address"], "127.0.0.3:%d" % self.PORT)
        self.assertEqual(users["bob@test"]["nickname"], "ボブ")
        self.assertEqual(users["fake0999@farm"]["nickname"], "Fake host number fake0999 of the farm")
        self.assertEqual(users["fake0000@farm"]["group"], "Farm")
        new = [e["key"] for e in self.events(c, "presence.changed") if e["change"] == "new"]
        self.assertIn("alice@test", new)

        # The exchange ends with a BR_ENTRY round that now goes to the listed hosts
        # by unicast: A and B, who never heard of C, learn about it and answer.
        self.wait_user(a, "carol@test")
        self.wait_user(b, "carol@test")
        self.wait_user(c, "server@test")
        disc = self.discovery(c)
        self.assertIn("127.0.0.3:%d" % self.PORT, disc["targets"])
        self.assertEqual(disc["host_list"]["peers"], 3)  # alice, bob and the farm address
        srv = self.discovery(s)["host_list"]
        self.assertGreaterEqual(srv["ok_sent"], 1)
        self.assertEqual(srv["pages_served"], last["pages"])
        self.assertEqual(srv["hosts_served"], 1002)
        for d in (a, b, c, s):
            self.assert_clean_exit(d)

    def test_server_answers_raw_requester(self):
        """The exact OKGETLIST and ANSLIST bytes a Windows requester gets (§4.5)."""
        s = self.node("server", "127.0.0.2", ["127.0.0.3", "127.0.0.4"],
                      ["ipmsg.list_server=true", "ipmsg.list_wait_ms=300"])
        self.node("alice", "127.0.0.3", ["127.0.0.2"])
        self.node("bob", "127.0.0.4", ["127.0.0.2"], nickname="ボブ", group="営業")
        self.wait_user(s, "alice@test")
        self.wait_user(s, "bob@test")
        # A server that has not run for list_wait_ms yet does not answer.
        cold = self.node("cold", "127.0.0.7", [], ["ipmsg.list_server=true",
                                                    "ipmsg.list_wait_ms=60000"])
        req = self.raw_peer("127.0.0.5", user="req", host="rawpc")
        req.send("127.0.0.7", req.packet(BR_ISGETLIST2 | CAPUTF8OPT, "Req", b"\0"))
        self.assertFalse([p for p in req.recv_all(1.0) if p.mode == OKGETLIST])

        req.send("127.0.0.2", req.packet(BR_ISGETLIST2 | CAPUTF8OPT, "Req", b"\0"))
        ok = req.wait_for(OKGETLIST)
        self.assertEqual(ok.raw, b"1:%d:server:test:17:\0" % ok.no)

        # Legacy request: the page in CP932, entries ordered by key, \b for empty values.
        req.send("127.0.0.2", req.packet(GETLIST, ""))
        ans = req.wait_for(ANSLIST)
        self.assertEqual(ans.cmd, ANSLIST)
        want = page(0, [self.entry_fields("alice", CAPUTF8OPT, "127.0.0.3", "Alice", ""),
                        self.entry_fields("bob", CAPUTF8OPT, "127.0.0.4", "ボブ", "営業", "cp932")])
        self.assertEqual(ans.raw, b"1:%d:server:test:19:" % ans.no + want + b"\0")

        # UTF-8 when the request shows CAPUTF8OPT; a start index selects the rest.
        req.send("127.0.0.2", req.packet(GETLIST | CAPUTF8OPT, "1"))
        ans = req.wait_for(ANSLIST)
        self.assertEqual(ans.cmd, ANSLIST | UTF8OPT)
        self.assertEqual(ans.extra, page(0, [self.entry_fields("bob", CAPUTF8OPT, "127.0.0.4",
                                                               "ボブ", "営業")]))
        req.send("127.0.0.2", req.packet(GETLIST, "7"))
        self.assertEqual(req.wait_for(ANSLIST).extra, page(0, []))

        # A malformed index is counted and not answered.
        before = self.stats(s)["malformed"]
        req.send("127.0.0.2", req.packet(GETLIST, "seven"))
        self.assertFalse([p for p in req.recv_all(0.5) if p.mode == ANSLIST])
        self.assertEqual(self.stats(s)["malformed"], before + 1)
        # A node that is no list server ignores all of it.
        req.send("127.0.0.3", req.packet(BR_ISGETLIST2 | CAPUTF8OPT | RETRYOPT, "Req", b"\0"))
        req.send("127.0.0.3", req.packet(GETLIST, ""))
        self.assertFalse([p for p in req.recv_all(0.5) if p.mode in (OKGETLIST, ANSLIST)])
        self.assertEqual(self.discovery(cold)["host_list"]["ok_sent"], 0)
        self.assert_clean_exit(s)

    def test_requester_against_raw_server(self):
        """dengond as requester: retry with RETRYOPT, paging, bad and foreign entries."""
        srv = self.raw_peer("127.0.0.5", user="listsrv", host="rawpc")
        h7 = self.raw_peer("127.0.0.7", user="hana", host="pc7")
        h8 = self.raw_peer("127.0.0.8", user="ichiro", host="pc8")
        rogue = self.raw_peer("127.0.0.9", user="evil", host="pc9")
        c = self.node("carol", "127.0.0.6", ["127.0.0.5"],
                      ["ipmsg.list_get=true", "ipmsg.list_wait_ms=400"])
        # The first request goes unanswered; the retry carries RETRYOPT (Windows' ListGet).
        first = srv.wait_for(BR_ISGETLIST2)
        self.assertFalse(first.opts & RETRYOPT)
        self.assertTrue(first.opts & CAPUTF8OPT)
        self.assertEqual((first.user, first.host, first.extra), (b"carol", b"test", b"Carol"))
        self.assertEqual(first.tail, b"\0")  # the (empty) group, no UTF-8 block
        evil = [b"evil", b"pc9", b"%d" % CAPUTF8OPT, b"127.0.0.9", b"%d" % wire_port(self.PORT),
                b"Evil", DUMMY]
        rogue.send("127.0.0.6", rogue.packet(ANSLIST | UTF8OPT, page(0, [evil])))
        retry = srv.wait_for(BR_ISGETLIST2)
        self.assertTrue(retry.opts & RETRYOPT)
        srv.send("127.0.0.6", srv.packet(OKGETLIST))

        get = srv.wait_for(GETLIST)
        self.assertEqual(get.extra, b"")
        self.assertTrue(get.opts & CAPUTF8OPT)
        rogue.send("127.0.0.6", rogue.packet(ANSLIST | UTF8OPT, page(0, [evil])))
        port = b"%d" % wire_port(self.PORT)
        hana = [b"hana", b"pc7", b"%d" % CAPUTF8OPT, b"127.0.0.7", port, "花子".encode(), DUMMY]
        bcast = [b"bc", b"pc0", b"%d" % CAPUTF8OPT, b"255.255.255.255", port, b"B", DUMMY]
        srv.send("127.0.0.6", srv.packet(ANSLIST | UTF8OPT, page(2, [hana, bcast])))
        get = srv.wait_for(GETLIST)
        self.assertEqual(get.extra, b"2")
        ichiro = [b"ichiro", b"pc8", b"%d" % (CAPUTF8OPT | 0x100), b"127.0.0.8", port, DUMMY,
                  b"Ops"]
        me = [b"carol", b"test", b"%d" % CAPUTF8OPT, b"127.0.0.6", port, b"Carol", DUMMY]
        srv.send("127.0.0.6", srv.packet(ANSLIST | UTF8OPT, page(0, [ichiro, me])))

        last = wait_until(lambda: self.discovery(c)["host_list"].get("last"), what="exchange end")
        self.assertTrue(last["ok"], last)
        self.assertEqual((last["pages"], last["hosts"], last["new"]), (2, 4, 2))
        users = self.users(c)
        self.assertEqual(users["hana@pc7"]["nickname"], "花子")
        self.assertEqual(users["hana@pc7"]["status"], "online")
        self.assertEqual(users["ichiro@pc8"]["status"], "absent")  # ABSENCEOPT in the list
        self.assertEqual(users["ichiro@pc8"]["group"], "Ops")
        self.assertNotIn("evil@pc9", users)
        self.assertNotIn("bc@pc0", users)
        self.assertNotIn("carol@test", users)
        self.assertGreaterEqual(self.discovery(c)["host_list"]["ignored"], 2)
        # Then the entry round, by unicast to every listed host and to the server.
        for peer in (h7, h8, srv):
            e = peer.wait_for(BR_ENTRY)
            self.assertEqual((e.user, e.extra), (b"carol", b"Carol"))
        self.assertFalse([p for p in rogue.recv_all(0.3) if p.mode == BR_ENTRY])
        self.assert_clean_exit(c)

    def test_no_server_answers(self):
        """Nobody answers: two requests, then the ordinary BR_ENTRY round."""
        srv = self.raw_peer("127.0.0.5", user="silent", host="rawpc")
        t0 = time.monotonic()
        c = self.node("carol", "127.0.0.6", ["127.0.0.5"], ["ipmsg.list_wait_ms=300"],
                      ini=["ipmsg.list_get = true"])
        self.assertFalse(srv.wait_for(BR_ISGETLIST2).opts & RETRYOPT)
        self.assertTrue(srv.wait_for(BR_ISGETLIST2).opts & RETRYOPT)
        srv.wait_for(BR_ENTRY)
        self.assertGreaterEqual(time.monotonic() - t0, 0.6)
        last = wait_until(lambda: self.discovery(c)["host_list"].get("last"), what="give up")
        self.assertFalse(last["ok"])
        self.assertEqual(last["result"], "no list server answered")
        # Switched off live: the next announce (new targets) is a plain BR_ENTRY round.
        c.result("config.set", {"key": "ipmsg.list_get", "value": "false"})
        wait_until(lambda: self.discovery(c)["host_list"]["list_get"] is False, what="live key")
        c.result("config.set", {"key": "ipmsg.broadcast", "value": "127.0.0.5"})
        again = [p.mode for p in srv.recv_all(1.0)]
        self.assertIn(BR_ENTRY, again)
        self.assertNotIn(BR_ISGETLIST2, again)
        self.assertEqual(self.discovery(c)["host_list"]["exchanges"], 1)
        self.assert_clean_exit(c)


if __name__ == "__main__":
    unittest.main()
