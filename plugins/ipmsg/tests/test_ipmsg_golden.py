"""Golden packets: the exact bytes dengond sends, captured by a scripted peer
and compared with the Windows formats of docs/ipmsg-protocol.md (§1.2-§1.4,
§3.1, §4.1-§4.7, §10): the legacy header and CP932 nickname/group followed by
the UTF-8 block on broadcasts, UTF8OPT only towards peers that showed
CAPUTF8, the entry command value, SENDMSG/RECVMSG, the BR_EXIT pair.

The packet number is the one field that changes from run to run: it is read
from each packet and checked to be time-based (§1.2), then put into the
expected bytes. The ANSLIST golden page is in test_ipmsg_hostlist.py.
"""
import time
import unittest

from ipmsg_testlib import (ANSENTRY, BR_ENTRY, BR_EXIT, CAPIPDICTOPT, CAPUTF8OPT, CLIPBOARDOPT,
                           ENCEXTMSGOPT, ENCRYPTOPT, FILEATTACHOPT, MULTICASTOPT, NOOPERATION,
                           READCHECKOPT, RECVMSG, SECRETOPT, SENDCHECKOPT, SENDMSG, UTF8OPT,
                           NodeTestCase)

NICK, GROUP = "山田", "開発部"
TEXT = "日本語のテキスト ①②"  # ① is in CP932 (NEC extension), not in plain Shift_JIS


class TestGolden(NodeTestCase):

    def entry_bytes(self, no, cmd, uuid, utf8=False):
        enc = "utf-8" if utf8 else "cp932"
        block = "\nUN:alice\nHN:test\nNN:%s\nGN:%s\nDGUUID:%s" % (NICK, GROUP, uuid)
        return (b"1:%d:alice:test:%d:" % (no, cmd) + NICK.encode(enc) + b"\0" +
                GROUP.encode(enc) + b"\0" + block.encode())

    def check_no(self, p):
        # §1.2: time-based, unique and below 2^32.
        self.assertGreaterEqual(p.no, int(time.time()) - 3600)
        self.assertLess(p.no, 2 ** 32)

    def test_packets(self):
        legacy = self.raw_peer("127.0.0.5", user="old", host="pc5")
        modern = self.raw_peer("127.0.0.6", user="new", host="pc6")
        a = self.node("alice", "127.0.0.2", ["127.0.0.5"], nickname=NICK, group=GROUP)
        uuid = a.result("core.whoami")["uuid"]

        # Start: a NOOPERATION round, then BR_ENTRY (§4.1). Entry command = BR_ENTRY|CAPUTF8OPT
        # = 0x01000001: of Windows' 0x0F640001 only what is implemented (§3.1, §10).
        noop = legacy.wait_for(NOOPERATION)
        self.assertEqual(noop.raw, self.entry_bytes(noop.no, NOOPERATION | CAPUTF8OPT, uuid))
        entry = legacy.wait_for(BR_ENTRY)
        self.check_no(entry)
        self.assertGreater(entry.no, noop.no)
        self.assertEqual(entry.cmd, 0x01000001)
        self.assertEqual(entry.raw, self.entry_bytes(entry.no, 0x01000001, uuid))
        for bit in (FILEATTACHOPT, ENCRYPTOPT, ENCEXTMSGOPT, CLIPBOARDOPT, CAPIPDICTOPT, UTF8OPT):
            self.assertFalse(entry.cmd & bit, hex(bit))

        # ANSENTRY: legacy to a peer without CAPUTF8, ANSENTRY|UTF8OPT (all UTF-8) to one with it.
        legacy.entry("127.0.0.2", "Old", cmd=BR_ENTRY)
        ans = legacy.wait_for(ANSENTRY)
        self.assertEqual(ans.raw, self.entry_bytes(ans.no, ANSENTRY | CAPUTF8OPT, uuid))
        modern.entry("127.0.0.2", "New")
        ans = modern.wait_for(ANSENTRY)
        self.assertEqual(ans.raw, self.entry_bytes(ans.no, ANSENTRY | CAPUTF8OPT | UTF8OPT, uuid,
                                                   utf8=True))
        self.wait_user(a, "new@pc6")
        self.wait_user(a, "old@pc5")

        # SENDMSG|SENDCHECKOPT = 288 (§4.3): CP932 to the legacy peer, UTF8OPT + UTF-8 to the other.
        r = a.result("chat.send", {"to": "old@pc5", "text": TEXT})
        m = legacy.wait_for(SENDMSG)
        self.assertEqual(m.no, r["id"])
        self.assertEqual(m.raw, b"1:%d:alice:test:288:" % m.no + TEXT.encode("cp932") + b"\0")
        legacy.send("127.0.0.2", legacy.packet(RECVMSG, str(m.no)))
        r = a.result("chat.send", {"to": "new@pc6", "text": TEXT + "\r\n🍣"})
        m = modern.wait_for(SENDMSG)
        self.assertEqual(m.raw, b"1:%d:alice:test:%d:" % (m.no, SENDMSG | SENDCHECKOPT | UTF8OPT) +
                         (TEXT + "\n🍣").encode() + b"\0")  # CR LF -> LF (§1.2)
        modern.send("127.0.0.2", modern.packet(RECVMSG | UTF8OPT, str(m.no)))
        # Several recipients: one number, MULTICASTOPT; sealed: SECRETOPT|READCHECKOPT (§4.4).
        r = a.result("chat.send", {"to": ["old@pc5", "new@pc6"], "text": "x", "seal": True})
        m1, m2 = legacy.wait_for(SENDMSG), modern.wait_for(SENDMSG)
        sealed = SENDMSG | SENDCHECKOPT | SECRETOPT | READCHECKOPT | MULTICASTOPT
        self.assertEqual(sealed, 0x00100B20)
        self.assertEqual(m1.raw, b"1:%d:alice:test:%d:x\0" % (r["id"], sealed))
        self.assertEqual(m2.raw, b"1:%d:alice:test:%d:x\0" % (r["id"], sealed | UTF8OPT))

        # RECVMSG: extra = the acknowledged number in decimal, plain for a legacy sender.
        legacy.send("127.0.0.2", legacy.packet(SENDMSG | SENDCHECKOPT, "テスト".encode("cp932"),
                                               no=4242))
        ack = legacy.wait_for(RECVMSG)
        self.assertEqual(ack.raw, b"1:%d:alice:test:33:4242\0" % ack.no)
        modern.send("127.0.0.2", modern.packet(SENDMSG | SENDCHECKOPT | UTF8OPT, "テスト",
                                               no=4343))
        ack = modern.wait_for(RECVMSG)
        self.assertEqual(ack.raw, b"1:%d:alice:test:%d:4343\0" % (ack.no, RECVMSG | UTF8OPT))

        # Stop: exactly two BR_EXIT, same layout as the entry (§4.7), to every target.
        legacy.drain()
        self.assert_clean_exit(a)
        exits = [p for p in legacy.recv_all(0.5) if p.mode == BR_EXIT]
        self.assertEqual(len(exits), 2, exits)
        for p in exits:
            self.assertEqual(p.raw, self.entry_bytes(p.no, BR_EXIT | CAPUTF8OPT, uuid))
        self.assertNotEqual(exits[0].no, exits[1].no)


if __name__ == "__main__":
    unittest.main()
