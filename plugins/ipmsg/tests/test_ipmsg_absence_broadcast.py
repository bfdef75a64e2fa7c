"""Broadcast messages (BROADCASTOPT), absence mode (nickname decoration,
automatic reply, GETABSENCEINFO, chat.absence and `dengon absence`) and
auto-absence after idle time (docs/ipmsg-protocol.md §3.1, §4.2, §4.3).

Daemons on 127.0.0.2-4 and scripted IPMsg peers on 127.0.0.5-6; nothing
leaves the loopback range.
"""
import time
import unittest

from dgtest import SLOW, wait_until
from ipmsg_testlib import (ABSENCEOPT, AUTORETOPT, BR_ABSENCE, BR_ENTRY, BROADCASTOPT, CAPUTF8OPT,
                           GETABSENCEINFO, NOADDLISTOPT, RECVMSG, SENDABSENCEINFO, SENDCHECKOPT,
                           SENDMSG, UTF8OPT, NodeTestCase)


class TestBroadcast(NodeTestCase):

    def test_broadcast_messages(self):
        a = self.node("alice", "127.0.0.2", ["127.0.0.3", "127.0.0.5"],
                      ["ipmsg.retry_interval_ms=150"])
        b = self.node("bob", "127.0.0.3", ["127.0.0.2"])
        raw = self.raw_peer("127.0.0.5", user="old", host="pc5")
        raw.entry("127.0.0.2", "Old", cmd=BR_ENTRY)  # a legacy client: no CAPUTF8
        self.wait_user(a, "old@pc5")
        self.wait_user(a, "bob@test")
        raw.drain()

        text = "全員へ: 昼食は12時から"
        r = a.result("chat.send", {"broadcast": True, "text": text})
        self.assertTrue(r["broadcast"])
        self.assertFalse(r["sealed"])
        got = {x["key"]: x for x in r["recipients"]}
        self.assertEqual(set(got), {"bob@test", "old@pc5"})  # both targets are known users
        self.assertEqual({x["state"] for x in r["recipients"]}, {"sent"})

        # The legacy peer gets one SENDMSG|BROADCASTOPT in CP932, without SENDCHECKOPT.
        pkts = [p for p in raw.recv_all(1.0) if p.mode == SENDMSG]
        self.assertEqual(len(pkts), 1, pkts)
        self.assertEqual(pkts[0].cmd, SENDMSG | BROADCASTOPT)
        self.assertEqual(pkts[0].no, r["id"])
        self.assertEqual(pkts[0].extra, text.encode("cp932"))
        # Bob (UTF-8) gets it flagged broadcast and sends no RECVMSG; nothing is resent.
        m = wait_until(lambda: [m for m in self.inbox(b) if m["text"] == text], what="at bob")[0]
        self.assertTrue(m["broadcast"])
        time.sleep(0.6 * SLOW)
        self.assertEqual(self.stats(b)["acks_sent"], 0)
        st = self.stats(a)
        self.assertEqual((st["retries"], st["pending"], st["failed"]), (0, 0, 0))
        sent = self.events(a, "chat.message.sent")[-1]
        self.assertTrue(sent["broadcast"])
        self.assertEqual(sorted(sent["to"]), ["bob@test", "old@pc5"])

        # Receiving one: flagged, never acknowledged, no entry back to an unknown
        # sender, no automatic reply even while absent (§4.3, Windows' MsgSendMsg).
        a.result("chat.absence", {"on": True, "text": "不在"})
        stranger = self.raw_peer("127.0.0.6", user="stranger", host="pc6")
        stranger.send("127.0.0.2", stranger.packet(SENDMSG | SENDCHECKOPT | BROADCASTOPT | UTF8OPT,
                                                   "お知らせ", no=4711))
        m = wait_until(lambda: [m for m in self.inbox(a) if m["text"] == "お知らせ"],
                       what="broadcast at alice")[0]
        self.assertTrue(m["broadcast"])
        self.assertEqual(m["packet_no"], 4711)
        self.assertEqual(stranger.recv_all(0.6), [])
        # A direct message from the same stranger is answered: ack, auto-reply, entry.
        stranger.send("127.0.0.2", stranger.packet(SENDMSG | SENDCHECKOPT | UTF8OPT, "直接"))
        modes = [p.mode for p in stranger.recv_all(1.0)]
        self.assertIn(RECVMSG, modes)
        self.assertIn(SENDMSG, modes)
        self.assertIn(BR_ENTRY, modes)
        a.result("chat.absence", {"on": False})
        # A one-shot sender (NOADDLISTOPT, like Windows' command-line sender) gets its ack only.
        stranger.send("127.0.0.2", stranger.packet(SENDMSG | SENDCHECKOPT | NOADDLISTOPT,
                                                   "one shot", user="oneshot"))
        self.assertEqual([p.mode for p in stranger.recv_all(0.6)], [RECVMSG])

        # Bad requests: refused with a reason, nothing sent.
        for params, what in (({"broadcast": True, "to": "bob", "text": "x"}, "exclude"),
                             ({"broadcast": True, "seal": True, "text": "x"}, "sealed"),
                             ({"broadcast": True, "text": ""}, "non-empty"),
                             ({"broadcast": "maybe", "text": "x"}, "true or false"),
                             ({"broadcast": True, "text": "x" * 40000}, "does not fit")):
            resp = a.call("chat.send", params)
            self.assertIn("error", resp, params)
            self.assertIn(what, resp["error"]["message"])
        lone = self.node("lone", "127.0.0.4")
        resp = lone.call("chat.send", {"broadcast": True, "text": "anyone?"})
        self.assertIn("nobody to send a broadcast to", resp["error"]["message"])

        # The CLI: every argument is a word of the message; no TO.
        r = self.cli(a, "send", "--broadcast", "hello", "everybody")
        self.assertEqual(r.rc, 0, r)
        self.assertIn("Bob (bob@test): sent", r.out)
        wait_until(lambda: "hello everybody" in [m["text"] for m in self.inbox(b)],
                   what="CLI broadcast")
        r = self.cli(a, "send", "--broadcast", "bye", json_out=True)
        self.assertEqual(r.rc, 0, r)
        self.assertTrue(r.json()["broadcast"])
        self.assertEqual(self.cli(a, "send", "--broadcast", "--seal", "x").rc, 2)
        self.assertEqual(self.cli(a, "send", "--broadcast").rc, 2)
        self.assertEqual(self.cli(a, "send", "bob@test").rc, 2)  # TO and MESSAGE needed
        h = self.cli(a, "send", "--help")
        self.assertIn("--broadcast", h.out)
        self.assertIn("Calls chat.send", h.out)
        for d in (a, b, lone):
            self.assert_clean_exit(d)


class TestAbsence(NodeTestCase):

    def absence_packet(self, peer):
        return peer.wait_for(BR_ABSENCE)

    def test_decoration_autoreply_and_absence_info(self):
        a = self.node("alice", "127.0.0.2", ["127.0.0.3", "127.0.0.5"])
        b = self.node("bob", "127.0.0.3", ["127.0.0.2"])
        raw = self.raw_peer("127.0.0.5", user="raw", host="pc5")
        raw.entry("127.0.0.2", "Raw")
        self.wait_user(a, "raw@pc5")
        self.wait_user(b, "alice@test")
        raw.drain()

        r = a.result("chat.absence", {"on": True, "text": "会議中です。15時に戻ります", "title": "会議"})
        self.assertEqual((r["absent"], r["reason"], r["title"]), (True, "manual", "会議"))
        # BR_ABSENCE with ABSENCEOPT and "nick[title]" in the legacy field and in NN: (§4.2).
        p = self.absence_packet(raw)
        self.assertEqual(p.cmd, BR_ABSENCE | ABSENCEOPT | CAPUTF8OPT)
        self.assertEqual(p.extra, "Alice[会議]".encode("cp932"))
        self.assertIn("\nNN:Alice[会議]".encode(), p.tail)
        ev = wait_until(lambda: [e for e in self.events(a, "presence.self.changed")
                                 if e["absent"]], what="self event")[-1]
        self.assertEqual((ev["change"], ev["nickname"]), ("manual", "Alice[会議]"))
        # A dengon peer shows the plain nickname, status absent and the absence text.
        u = wait_until(lambda: self.users(b)["alice@test"].get("absence") and
                       self.users(b)["alice@test"], what="absence text at bob")
        self.assertEqual((u["status"], u["nickname"]), ("absent", "Alice"))
        self.assertEqual(u["absence"], "会議中です。15時に戻ります")

        # GETABSENCEINFO is answered with the text; a direct message with an ack and the
        # text as SENDMSG|AUTORETOPT; an automatic reply is never answered (no ping-pong).
        raw.send("127.0.0.2", raw.packet(GETABSENCEINFO | UTF8OPT))
        self.assertEqual(raw.wait_for(SENDABSENCEINFO).extra.decode(), "会議中です。15時に戻ります")
        raw.send("127.0.0.2", raw.packet(SENDMSG | SENDCHECKOPT | UTF8OPT, "いますか?", no=9001))
        got = raw.recv_all(1.0)
        self.assertEqual([p.extra for p in got if p.mode == RECVMSG], [b"9001"])
        auto = [p for p in got if p.mode == SENDMSG]
        self.assertEqual(len(auto), 1)
        self.assertEqual(auto[0].cmd, SENDMSG | AUTORETOPT | UTF8OPT)
        self.assertEqual(auto[0].extra.decode(), "会議中です。15時に戻ります")
        raw.send("127.0.0.2", raw.packet(SENDMSG | AUTORETOPT | UTF8OPT, "auto"))
        self.assertFalse([p for p in raw.recv_all(0.5) if p.mode == SENDMSG])
        # Sending counts as activity, but a manual absence stays until lifted.
        a.result("chat.send", {"to": "bob@test", "text": "still away", "wait": True})
        self.assertTrue(a.result("chat.absence")["absent"])

        # Off: plain nickname, no ABSENCEOPT, "Not absence mode", no automatic reply.
        raw.drain()
        r = a.result("chat.absence", {"on": False})
        self.assertFalse(r["absent"])
        p = self.absence_packet(raw)
        self.assertEqual((p.cmd, p.extra), (BR_ABSENCE | CAPUTF8OPT, b"Alice"))
        self.wait_user(b, "alice@test", "online")
        raw.send("127.0.0.2", raw.packet(GETABSENCEINFO))
        self.assertEqual(raw.wait_for(SENDABSENCEINFO).extra, b"Not absence mode")
        raw.send("127.0.0.2", raw.packet(SENDMSG | SENDCHECKOPT, "back?"))
        self.assertEqual([p.mode for p in raw.recv_all(0.6)], [RECVMSG])

        # Without text and title: the configured ones. An empty text: no automatic reply.
        a.result("chat.absence", {"on": True})
        p = self.absence_packet(raw)
        self.assertEqual(p.extra, b"Alice[Away]")
        raw.send("127.0.0.2", raw.packet(GETABSENCEINFO))
        self.assertEqual(raw.wait_for(SENDABSENCEINFO).extra, b"I am away from my desk.")
        a.result("chat.absence", {"on": True, "text": "", "title": ""})
        p = self.absence_packet(raw)
        self.assertEqual((p.cmd & ABSENCEOPT, p.extra), (ABSENCEOPT, b"Alice"))
        raw.drain()
        raw.send("127.0.0.2", raw.packet(SENDMSG | SENDCHECKOPT, "anyone?"))
        self.assertEqual([p.mode for p in raw.recv_all(0.6)], [RECVMSG])

        # Bad params are refused with a reason.
        for params, what in (({"text": "x"}, "go with"), ({"on": False, "title": "x"}, "go with"),
                             ({"on": "maybe"}, "true or false"), ({"on": True, "text": 5}, "string"),
                             ({"on": True, "title": "x" * 200}, "at most"), ({"mood": 1}, "unknown")):
            resp = a.call("chat.absence", params)
            self.assertIn("error", resp, params)
            self.assertIn(what, resp["error"]["message"])

        # The CLI.
        r = self.cli(a, "absence", "on", "Back", "at", "3")
        self.assertEqual(r.rc, 0, r)
        self.assertIn("absent since", r.out)
        self.assertIn("manual", r.out)
        self.assertIn("automatic reply: Back at 3", r.out)
        r = self.cli(a, "absence", "status", json_out=True)
        self.assertEqual((r.json()["absent"], r.json()["text"]), (True, "Back at 3"))
        r = self.cli(a, "absence", "off")
        self.assertEqual((r.rc, r.out), (0, "present\n"))
        self.assertEqual(self.cli(a, "absence", "off", "now").rc, 2)
        self.assertEqual(self.cli(a, "absence").rc, 2)  # a subcommand is needed
        for cmd in (["absence", "on"], ["absence", "off"], ["absence", "status"]):
            h = self.cli(a, *cmd, "--help")
            self.assertEqual(h.rc, 0, h)
            self.assertIn("Calls chat.absence", h.out)
        self.assertIn("absence on", self.cli(a, "--help").out)
        for d in (a, b):
            self.assert_clean_exit(d)

    def test_auto_absence(self):
        # 0.05 minutes = 3 s without chat.send / chat.read / chat.absence.
        b = self.node("bob", "127.0.0.3", ["127.0.0.2"])
        t0 = time.monotonic()
        a = self.node("alice", "127.0.0.2", ["127.0.0.3"], ini=["ipmsg.auto_absence_minutes = 0.05"])
        self.wait_user(b, "alice@test")
        self.assertEqual(a.result("chat.absence")["auto_absence_s"], 3)
        u = self.wait_user(b, "alice@test", "absent", timeout=15)
        self.assertGreaterEqual(time.monotonic() - t0, 2.9)
        self.assertEqual(u["absence"], "I am away from my desk.")
        st = a.result("chat.absence")
        self.assertEqual((st["absent"], st["reason"]), (True, "idle"))
        self.assertGreaterEqual(st["idle_s"], 2)

        # Activity ends an absence that idle time started, and restarts the clock.
        a.result("chat.send", {"to": "bob@test", "text": "I'm back", "wait": True})
        self.assertFalse(a.result("chat.absence")["absent"])
        self.wait_user(b, "alice@test", "online")
        changes = [e["change"] for e in self.events(a, "presence.self.changed")]
        self.assertEqual(changes[-2:], ["idle", "activity"])
        time.sleep(1.0)
        self.assertFalse(a.result("chat.absence")["absent"])  # 1 s idle: not yet
        self.wait_user(b, "alice@test", "absent", timeout=15)

        # A bad value is refused and the previous one kept; 0 turns it off.
        a.result("config.set", {"key": "ipmsg.auto_absence_minutes", "value": "soon"})
        time.sleep(0.3)
        self.assertEqual(a.result("chat.absence")["auto_absence_s"], 3)
        self.assertIn("ipmsg.auto_absence_minutes", a.log_text())
        a.result("chat.absence", {"on": False})
        a.result("config.set", {"key": "ipmsg.auto_absence_minutes", "value": "0"})
        wait_until(lambda: a.result("chat.absence")["auto_absence_s"] == 0, what="off")
        time.sleep(3.5)
        self.assertFalse(a.result("chat.absence")["absent"])
        for d in (a, b):
            self.assert_clean_exit(d)

    def test_bad_auto_absence_at_start(self):
        d = self.node("alice", "127.0.0.4", options=["ipmsg.auto_absence_minutes=sometimes"],
                      start=False)
        d.start()
        p = d.plugins()["ipmsg"]
        self.assertEqual(p["state"], "start_failed", p)
        self.assertIn("ipmsg.auto_absence_minutes", d.log_text() + d.stderr_text())
        self.assert_clean_exit(d)


if __name__ == "__main__":
    unittest.main()
