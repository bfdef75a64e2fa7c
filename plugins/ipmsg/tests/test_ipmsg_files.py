"""The ipmsg side of file transfer (docs/protocol/ipmsg-plugin.md, "Files"):
a raw IPMsg peer on 127.0.0.5 offers files (FILEATTACHOPT), the attach list
reaches chat.message.received as "attachments" in UTF-8 (from UTF-8 and from
CP932 peers), RELEASEFILES is published as chat.files.released, and
FILEATTACHOPT is not advertised while no files plugin runs. The sending side
(send_files, the capability bit) is tested with the files plugin
(plugins/files/tests).
"""
import unittest

from dgtest import wait_until
from ipmsg_testlib import ANSENTRY, RECVMSG, SENDCHECKOPT, SENDMSG, UTF8OPT, NodeTestCase

FILEATTACHOPT = 0x200000
RELEASEFILES = 0x61


class TestIpmsgFiles(NodeTestCase):
    def test_offer_release_capability(self):
        a = self.node("alice", "127.0.0.2")  # without the files plugin (node())
        peer = self.raw_peer("127.0.0.5", user="rawuser", host="rawpc")

        # No files plugin: our entry answer does not invite offers.
        peer.entry("127.0.0.2", "Raw")
        cmd = peer.wait_for(ANSENTRY).cmd
        self.assertFalse(cmd & FILEATTACHOPT, hex(cmd))

        # A UTF-8 offer: the attach list comes in the event, converted to UTF-8.
        attach = "0:報告書.pdf:1a2b:65f1c2a0:1:\a1:フォルダ:0:65f1c2a0:2:\a"
        peer.send("127.0.0.2", peer.packet(SENDMSG | SENDCHECKOPT | FILEATTACHOPT | UTF8OPT,
                                           "files for you", attach.encode() + b"\0", no=4242))
        self.assertEqual(peer.wait_for(RECVMSG).extra, b"4242")
        ev = wait_until(lambda: [e for e in self.events(a, "chat.message.received")
                                 if e["packet_no"] == 4242], what="offer event")[0]
        self.assertEqual(ev["attachments"], attach)
        self.assertEqual(ev["text"], "files for you")
        self.assertEqual(ev["address"], "127.0.0.5:%d" % peer.sock.getsockname()[1])
        inbox = [m for m in self.inbox(a) if m["packet_no"] == 4242]
        self.assertEqual(inbox[0]["attachments"], attach)

        # A legacy (CP932) offer with an empty text is converted too.
        legacy = "1:日本語.txt:10:65f1c2a0:1:\a"
        peer.send("127.0.0.2", peer.packet(SENDMSG | SENDCHECKOPT | FILEATTACHOPT, "",
                                           legacy.encode("cp932") + b"\0", no=4243))
        ev = wait_until(lambda: [e for e in self.events(a, "chat.message.received")
                                 if e["packet_no"] == 4243], what="legacy offer")[0]
        self.assertEqual(ev["attachments"], legacy)

        # A message without FILEATTACHOPT has no attachments field, whatever follows the NUL.
        peer.send("127.0.0.2", peer.packet(SENDMSG | UTF8OPT, "plain", b"0:x:1:1:1:\a\0",
                                           no=4244))
        ev = wait_until(lambda: [e for e in self.events(a, "chat.message.received")
                                 if e["packet_no"] == 4244], what="plain")[0]
        self.assertNotIn("attachments", ev)

        # RELEASEFILES: the peer will not fetch an offer of ours.
        peer.send("127.0.0.2", peer.packet(RELEASEFILES | UTF8OPT, "123456"))
        rel = wait_until(lambda: self.events(a, "chat.files.released"), what="released")[0]
        self.assertEqual((rel["from"], rel["packet_no"]), ("rawuser@rawpc", 123456))
        self.assertTrue(rel["address"].startswith("127.0.0.5:"))
        # A malformed one is counted, not published.
        before = self.stats(a)["malformed"]
        peer.send("127.0.0.2", peer.packet(RELEASEFILES, "12x"))
        wait_until(lambda: self.stats(a)["malformed"] == before + 1, what="malformed release")
        self.assertEqual(len(self.events(a, "chat.files.released")), 1)
        self.assert_clean_exit(a)


if __name__ == "__main__":
    unittest.main()
