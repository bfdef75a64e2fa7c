"""Interop with a real iptux (Debian's package) over IP Messenger.

Layout (docs/protocol/iptux-interop-test.md): two network namespaces created by
the test and joined by one veth pair, dengond in one (10.213.7.1), Xvfb + the
iptux GUI in the other (10.213.7.2). Both own UDP 2425, as iptux requires, and
no packet can leave the pair. Checked:

- presence both ways: dengon lists iptux with its nickname and group after
  iptux answers dengon's BR_ENTRY; iptux names dengon by its nickname (chat
  window title, iptux's chat log); iptux's Ctrl+Q (BR_EXIT) turns it offline
  in dengon, and iptux's own BR_ENTRY on its next start brings it back;
- dengon -> iptux: chat.send with wait answers "delivered" after iptux's RECVMSG,
  and iptux's chat log has the UTF-8 text;
- iptux -> dengon: the text typed into iptux's chat window (X11 XTEST, xclient.py)
  arrives in chat.inbox as UTF-8, and dengon's RECVMSG stops iptux's resends.

A capture inside dengon's namespace (netns.Capture) checks the wire side. Every
process is stopped by PID and both namespaces are removed even on failure.
Needs root, `ip netns`, iptux, Xvfb and dbus-run-session; skipped otherwise.
"""
import collections
import os
import pwd
import re
import socket
import sys
import time
import unittest

from dgtest import BUILD_DIR, DENGOND, Daemon, DaemonTestCase, wait_until

import netns
from iptux_peer import Iptux, Xvfb, become_subreaper, ns_daemon_class, unavailable_reason

PORT = 2425  # iptux sends every reply to 2425, whatever the source port
PLUGINS = os.path.join(BUILD_DIR, "lib", "dengon", "plugins")

SENDMSG, RECVMSG, BR_ENTRY, BR_EXIT, ANSENTRY = 0x20, 0x21, 0x01, 0x02, 0x03
SENDCHECKOPT = 0x100

DENGON_NICK, DENGON_USER, DENGON_HOST = "伝言テスト", "dengon-it", "interop"
IPTUX_NICK, IPTUX_GROUP = "iptux-ピア", "相互運用"
TO_IPTUX = "こんにちは iptux ✓ 日本語のテキスト 🎉"
# Typed through XTEST: at most 19 distinct characters that are not on an unshifted key.
FROM_IPTUX = "iptux から dengon へ: 日本語のテスト ✓ 🍣"



# One captured IPMsg datagram: header fields, the extra up to its first NUL, where it
# went and when (time.monotonic()).
Packet = collections.namedtuple("Packet", "version no user host cmd extra dst time")


def parse(data, dst, when):
    """The Packet of an IPMsg datagram, or None when it is not one."""
    head, _, _ = data.partition(b"\0")
    parts = head.split(b":", 5)
    if len(parts) < 6 or not parts[1].isdigit() or not parts[4].isdigit():
        return None
    return Packet(parts[0], int(parts[1]), parts[2], parts[3], int(parts[4]), parts[5], dst, when)


NsDaemon = ns_daemon_class(Daemon)


class TestIptuxInterop(DaemonTestCase):
    def setUp(self):
        reason = unavailable_reason(netns)
        if reason:
            self.skipTest("iptux interop: " + reason)
        if not os.access(DENGOND, os.X_OK):
            self.fail("no dengond at %s (DENGON_BUILD_DIR)" % DENGOND)
        become_subreaper()
        super().setUp()
        self.capture = self.iptux = self.dengon = None

    # -- setup ----------------------------------------------------------------

    def start_network(self):
        self.pair = netns.Pair("dgitx%d" % os.getpid())
        self.addCleanup(self.pair.delete)
        try:
            self.pair.create()
        except netns.Unavailable as e:
            self.skipTest("iptux interop: cannot create a network namespace: %s" % e)
        self.dg_addr, self.itx_addr = self.pair.addr
        self.capture = netns.Capture(self.pair.ns[0], self.pair.dev[0], PORT)
        self.addCleanup(self.capture.stop)
        self.capture.start()

    def start_iptux(self):
        xvfb = Xvfb(self.pair.exec_prefix(1), os.path.join(self.tmp, "xvfb.log"))
        self.addCleanup(xvfb.stop)
        xvfb.start()
        self.iptux = Iptux(self.pair.exec_prefix(1), os.path.join(self.tmp, "iptux"), xvfb.number,
                           IPTUX_NICK, IPTUX_GROUP, dialup=self.dg_addr)
        self.addCleanup(self.iptux.stop)
        self.iptux.start()
        # The last start-up packet is the dial-up BR_ENTRY to dengon's address. Waiting
        # for it means dengond, started next, learns of iptux only through iptux's
        # answer to dengon's own BR_ENTRY (the restart in step 5 checks the other way).
        self.wire(self.itx_addr, BR_ENTRY, lambda p: p.dst == self.dg_addr, what="iptux's dial-up")

    def start_dengon(self):
        opts = [
            "ipmsg.bind_address=" + self.dg_addr,
            "ipmsg.port=%d" % PORT,
            "ipmsg.hosts=" + self.itx_addr,
            "identity.user=" + DENGON_USER,
            "identity.host=" + DENGON_HOST,
            # No charset option: iptux sends UTF-8 without UTF8OPT and does not
            # announce CAPUTF8, and dengon must still pick UTF-8 for it on its own
            # (the default legacy code page is CP932).
            "ipmsg.announce_interval_s=0",
        ]
        home = os.path.join(self.tmp, "dengon")
        d = NsDaemon(self.pair.exec_prefix(0), home, plugin_dirs=[PLUGINS], options=opts)
        self.daemons.append(d)
        self.addCleanup(d.kill)  # before the namespaces go (cleanups run last-in first-out)
        os.makedirs(os.path.join(home, "config"))
        with open(os.path.join(home, "config", "dengon.ini"), "w", encoding="utf-8") as f:
            f.write("[identity]\nnickname = %s\n" % DENGON_NICK)
        d.start()
        self.assertEqual(d.plugins()["ipmsg"]["state"], "active", d.plugins())
        methods = {m["method"] for m in d.result("core.methods")}
        # ipmsg's users.list is being renamed ipmsg.peers: use whichever this build has.
        self.peers_method = next((m for m in ("ipmsg.peers", "users.list") if m in methods), None)
        self.assertIsNotNone(self.peers_method, sorted(methods))
        self.dengon = d
        return d

    # -- observations -------------------------------------------------------

    def peers(self):
        res = self.dengon.result(self.peers_method)
        if isinstance(res, dict):
            res = res.get("peers", res.get("users", []))
        return res

    def iptux_peer(self, status=None):
        """dengon's entry for the iptux host (by address), optionally only in `status`."""
        for p in self.peers():
            if p.get("address") == "%s:%d" % (self.itx_addr, PORT):
                if status is None or p.get("status") in status:
                    return p
        return None

    def inbox(self):
        return self.dengon.result("chat.inbox")["messages"]

    def packets(self, src, mode, since=0.0):
        """Parsed datagrams from `src` whose command mode is `mode`, seen after `since`."""
        out = []
        for t, s, _, d, _, payload in self.capture.snapshot():
            p = parse(payload, d, t)
            if t >= since and s == src and p and p.cmd & 0xFF == mode:
                out.append(p)
        return out

    def wire(self, src, mode, match=lambda p: True, since=0.0, what="packet"):
        """Waits until the capture (a thread, so slightly behind) holds a matching
        datagram; returns every match."""
        return wait_until(lambda: [p for p in self.packets(src, mode, since) if match(p)],
                          timeout=5, what=what)

    def diagnostics(self):
        parts = ["\n==== iptux interop diagnostics ===="]
        if self.capture:
            parts.append("-- UDP %d in dengon's namespace --\n%s" % (PORT, self.capture.dump()))
        if self.iptux:
            parts.append("-- iptux log (tail) --\n" + self.iptux.log()[-6000:])
            parts.append("-- iptux communicate.log --\n" + self.iptux.chat_log())
        if self.dengon:
            parts.append("-- dengond log --\n" + self.dengon.log_text()[-6000:])
            parts.append("-- dengond stderr --\n" + self.dengon.stderr_text()[-4000:])
        return "\n".join(parts) + "\n"

    # -- the test -----------------------------------------------------------

    def test_presence_and_messages_both_ways(self):
        try:
            self.scenario()
        except BaseException:
            enc = sys.stderr.encoding or "utf-8"  # never hide the failure behind an encode error
            sys.stderr.write(self.diagnostics().encode(enc, "backslashreplace").decode(enc))
            raise

    def scenario(self):
        self.start_network()
        self.start_iptux()
        d = self.start_dengon()
        iptux_user = pwd.getpwuid(os.geteuid()).pw_name  # iptux puts its process's user
        iptux_host = socket.gethostname()                # and host name in every packet

        # 1. Presence, dengon's side: dengon's BR_ENTRY is answered by iptux's ANSENTRY,
        #    and dengon lists iptux with its (UTF-8) nickname and group.
        peer = wait_until(self.iptux_peer, timeout=15, what="iptux in dengon's peers")
        self.assertEqual((peer["nickname"], peer["group"]), (IPTUX_NICK, IPTUX_GROUP), peer)
        self.assertEqual((peer["user"], peer["host"]), (iptux_user, iptux_host), peer)
        # iptux sets ABSENCEOPT in every entry packet (ipmsg-protocol.md §8): from
        # iptux the bit means nothing, and dengon shows it online.
        self.assertEqual(peer["status"], "online", peer)
        key = peer["key"]
        self.wire(self.dg_addr, BR_ENTRY, lambda p: p.dst == self.itx_addr,
                  what="BR_ENTRY to iptux")
        answer = self.wire(self.itx_addr, ANSENTRY, what="iptux's ANSENTRY")[0]
        self.assertTrue(answer.version.startswith(b"1_iptux"), answer)
        self.assertEqual((answer.dst, answer.extra), (self.dg_addr, IPTUX_NICK.encode()), answer)

        # 2. dengon -> iptux, acknowledged: wait=true answers after iptux's RECVMSG.
        r = d.result("chat.send", {"to": key, "text": TO_IPTUX, "wait": True})
        self.assertEqual([x["state"] for x in r["recipients"]], ["delivered"], r)
        sent = self.wire(self.dg_addr, SENDMSG, lambda p: p.extra == TO_IPTUX.encode(),
                         what="dengon's SENDMSG")
        self.assertEqual(len({p.no for p in sent}), 1, sent)
        self.assertTrue(sent[0].cmd & SENDCHECKOPT, sent[0])
        self.wire(self.itx_addr, RECVMSG, lambda p: p.extra == b"%d" % sent[0].no,
                  what="iptux's RECVMSG for packet %d" % sent[0].no)
        # iptux decoded the UTF-8 text and knows dengon by its nickname, user and host.
        # The user name as sent: with the crypto plugin on it carries our key's
        # fingerprint field, "-<16 hex>" (§6.4), as IP Messenger v3+ sends it.
        wire_user = d.result("ipmsg.stats")["user"]
        self.assertRegex(wire_user, r"^%s(-<[0-9a-f]{16}>)?$" % re.escape(DENGON_USER))
        who = "Nickname:%s User:%s Host:%s" % (DENGON_NICK, wire_user, DENGON_HOST)
        wait_until(lambda: "[STRING]" + TO_IPTUX in self.iptux.chat_log(), timeout=10,
                   what="the message in iptux's communicate.log")
        self.assertIn("Recevied-From: " + who, self.iptux.chat_log())  # iptux's spelling

        # 3. Presence, iptux's side: the chat window iptux opened names dengon's pal entry.
        title_prefix = "Talk with %s(%s)" % (DENGON_NICK, DENGON_HOST)
        with self.iptux.x() as x:
            _, title = x.find_window(lambda t: t.startswith("Talk with "), timeout=15)
        self.assertEqual(title, "%s IP:%s" % (title_prefix, self.dg_addr))

        # 4. iptux -> dengon: typed into that window and sent with Ctrl+Return.
        t0 = time.monotonic()
        self.iptux.send_from_chat_window(title_prefix, FROM_IPTUX)
        got = wait_until(lambda: [m for m in self.inbox() if m.get("text") == FROM_IPTUX],
                         timeout=20, what="iptux's message in chat.inbox")
        self.assertEqual(len(got), 1, got)
        self.assertEqual((got[0]["from"], got[0]["nickname"]), (key, IPTUX_NICK), got[0])
        wait_until(lambda: "[STRING]" + FROM_IPTUX in self.iptux.chat_log(), timeout=10,
                   what="the sent message in iptux's communicate.log")
        self.assertIn("Send-To: " + who, self.iptux.chat_log())
        # The ack: dengon's RECVMSG carries iptux's packet number, and iptux, which
        # resends every second until acknowledged, sends nothing more after it.
        msg = self.wire(self.itx_addr, SENDMSG, lambda p: p.extra == FROM_IPTUX.encode(),
                        since=t0, what="iptux's SENDMSG")[0]
        self.assertTrue(msg.cmd & SENDCHECKOPT, msg)
        ack = self.wire(self.dg_addr, RECVMSG, lambda p: p.extra == b"%d" % msg.no, since=t0,
                        what="dengon's RECVMSG for iptux's packet %d" % msg.no)[0]
        time.sleep(max(0.0, ack.time + 2.5 - time.monotonic()))
        resent = [p for p in self.packets(self.itx_addr, SENDMSG, since=ack.time + 0.1)
                  if p.no == msg.no]
        self.assertEqual(resent, [], "iptux kept resending after dengon's RECVMSG")

        # 5. Presence both ways again: iptux quits (Ctrl+Q sends BR_EXIT) -> offline in dengon;
        #    on its next start iptux's own BR_ENTRY is answered and brings it back.
        self.assertEqual(self.iptux.quit(), 0, self.iptux.log()[-2000:])
        wait_until(lambda: self.iptux_peer(("offline",)), timeout=10, what="iptux offline")
        self.wire(self.itx_addr, BR_EXIT, what="iptux's BR_EXIT")
        t1 = time.monotonic()
        self.iptux.start()
        back = wait_until(lambda: self.iptux_peer(("online",)), timeout=15,
                          what="iptux back after its restart")
        self.assertEqual((back["key"], back["nickname"]), (key, IPTUX_NICK), back)
        self.wire(self.itx_addr, BR_ENTRY, since=t1, what="iptux's BR_ENTRY")
        # dengon answers after a random delay of up to 1 s (as Windows does).
        self.wire(self.dg_addr, ANSENTRY, lambda p: p.dst == self.itx_addr, since=t1,
                  what="dengon's ANSENTRY to iptux's BR_ENTRY")

        # 6. dengond exits cleanly (BR_EXIT to iptux); iptux quits the way a user does.
        self.assert_clean_exit(d)
        self.wire(self.dg_addr, BR_EXIT, what="dengon's BR_EXIT")
        self.assertEqual(self.iptux.quit(), 0, self.iptux.log()[-2000:])


if __name__ == "__main__":
    unittest.main()
