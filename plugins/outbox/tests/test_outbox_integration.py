"""End-to-end tests of the offline queue (the outbox plugin): three real
dengond processes on 127.0.0.2-4 (ipmsg + outbox + the other shipped plugins
from the build's lib/dengon/plugins) with static host lists. The sender is
restarted and killed with -9 while messages wait; the receivers start later.

All traffic stays on 127.0.0.x. Events are checked with the test-only "qrec"
plugin (qrec.events), received messages in the receiver's chat.inbox.
"""
import json
import os
import time
import unittest

from dgtest import BUILD_DIR, DaemonTestCase, SLOW, free_port, wait_until

PLUGINS = os.path.join(BUILD_DIR, "lib", "dengon", "plugins")
TEST_PLUGINS = os.path.join(BUILD_DIR, "tests", "outbox-plugins")
ADDRS = {"alice": "127.0.0.2", "bob": "127.0.0.3", "carol": "127.0.0.4"}


# Chosen once per run (see free_port).
PORT = free_port(list(ADDRS.values()))


class OutboxTestCase(DaemonTestCase):
    def node(self, name, options=(), start=True):
        peers = [a for n, a in ADDRS.items() if n != name]
        opts = [
            "ipmsg.bind_address=" + ADDRS[name],
            "ipmsg.port=%d" % PORT,
            "identity.user=" + name,
            "identity.host=test",
            "identity.nickname=" + name.capitalize(),
            "ipmsg.hosts=" + ",".join("%s:%d" % (p, PORT) for p in peers),
            "ipmsg.announce_interval_s=0",
            "ipmsg.retry_interval_ms=150",
            "ipmsg.retries=2",
        ] + list(options)
        d = self.daemon(name, plugin_dirs=[PLUGINS, TEST_PLUGINS], options=opts)
        if start:
            self.start(d)
        return d

    def start(self, d):
        d.start()
        plugins = d.plugins()
        for p in ("ipmsg", "outbox", "qrec"):
            self.assertEqual(plugins[p]["state"], "active", plugins[p])

    def status(self, d, key):
        r = d.call("ipmsg.peer", {"user": key})
        if "error" in r:  # older ipmsg without ipmsg.peer
            r = d.call("users.get", {"user": key})
        return r.get("result", {}).get("status")

    def wait_status(self, d, key, status):
        wait_until(lambda: self.status(d, key) == status, timeout=15,
                   what="%s %s" % (key, status))

    def queue(self, d, all=False):
        return d.result("queue.list", {"all": True} if all else None)

    def inbox(self, d):
        return [m.get("text") for m in d.result("chat.inbox")["messages"]]

    def events(self, d, topic):
        return [e["payload"] for e in d.result("qrec.events") if e["topic"] == topic]


class TestQueue(OutboxTestCase):
    def test_queue_survives_restart_and_kill(self):
        a = self.node("alice", ["outbox.retry_interval_s=1"])
        b = self.node("bob")
        self.wait_status(a, "bob@test", "online")
        self.assert_clean_exit(b)  # BR_EXIT: bob is offline for alice
        self.wait_status(a, "bob@test", "offline")

        # Queued while bob is offline, in order; one through the CLI.
        for text in ("q1", "q2"):
            r = a.result("queue.send", {"to": "Bob", "text": text})
            self.assertEqual(r["messages"][0]["state"], "queued", r)
            self.assertEqual(r["messages"][0]["to"], "bob@test")
        r = a.cli("queue", "send", "bob@test", "q3 日本語\r\nline 2")
        self.assertEqual(r.rc, 0, r)
        self.assertIn("queued for Bob (bob@test): sent when they come online", r.out)
        # Discard: never sent.
        r = a.result("queue.send", {"to": "bob@test", "text": "discard me"})
        gone = r["messages"][0]["id"]
        r = a.cli("queue", "discard", str(gone))
        self.assertEqual(r.rc, 0, r)
        self.assertIn("discarded message %d to Bob" % gone, r.out)
        r = a.cli("queue", "discard", str(gone))
        self.assertEqual(r.rc, 1)
        self.assertIn("already discarded", r.err)
        self.assertEqual([m["text"] for m in self.queue(a)], ["q1", "q2", "q3 日本語\nline 2"])
        out = a.cli("queue").out
        self.assertEqual(out.splitlines()[0].split(),
                         ["ID", "QUEUED", "TO", "STATE", "TRIES", "TEXT"])
        self.assertIn("q3 日本語...", out)

        # A clean restart of the sender keeps the queue.
        self.assert_clean_exit(a)
        self.start(a)
        self.assertEqual([m["text"] for m in self.queue(a)], ["q1", "q2", "q3 日本語\nline 2"])
        # After a restart the transport does not know bob yet: a user@host is accepted
        # as written, and his nickname is found in the users plugin's directory.
        r = a.result("queue.send", {"to": "bob@test", "text": "q4"})
        self.assertEqual(r["messages"][0]["state"], "queued")
        self.assertIsNone(a.call("ipmsg.peer", {"user": "Bob"}).get("result"))
        r = a.result("queue.send", {"to": "Bob", "text": "q5"})
        self.assertEqual((r["messages"][0]["state"], r["messages"][0]["to"]), ("queued", "bob@test"))
        r = a.call("queue.send", {"to": "NoSuchNick", "text": "x"})
        self.assertIn("unknown user", r["error"]["message"])
        # kill -9 right after queueing: the message was on disk before the answer.
        a.kill()
        self.start(a)
        self.assertEqual([m["text"] for m in self.queue(a)],
                         ["q1", "q2", "q3 日本語\nline 2", "q4", "q5"])

        # The receiver starts later: everything arrives, in order, once.
        self.start(b)
        wait_until(lambda: self.queue(a) == [], timeout=20, what="queue drained")
        wait_until(lambda: len(self.inbox(b)) >= 5, what="messages at bob")
        self.assertEqual(self.inbox(b), ["q1", "q2", "q3 日本語\nline 2", "q4", "q5"])
        delivered = self.events(a, "queue.message.delivered")
        self.assertEqual([e["text"] for e in delivered],
                         ["q1", "q2", "q3 日本語\nline 2", "q4", "q5"])
        self.assertTrue(all(e["state"] == "delivered" and e["message_id"] > 0 for e in delivered))
        # The transport's own events for them name the outbox (send_ex's via), so
        # that subscribers of chat.send's messages (the history) skip them.
        acks = [e for e in self.events(a, "chat.message.delivered")
                if e["id"] in {d["message_id"] for d in delivered}]
        self.assertEqual(len(acks), 5, acks)
        self.assertTrue(all(e.get("via") == "outbox" for e in acks), acks)
        history = {m["text"]: m["state"] for m in self.queue(a, all=True)}
        self.assertEqual(history["discard me"], "discarded")
        self.assertEqual(history["q5"], "delivered")

        # Online: sent at once.
        r = a.result("queue.send", {"to": "bob@test", "text": "while online"})
        self.assertEqual(r["messages"][0]["state"], "sending")
        wait_until(lambda: "while online" in self.inbox(b), what="online send")

        # A receiver that vanished without BR_EXIT still looks online: the attempt fails,
        # the message stays queued with the reason, and the retry round delivers it later.
        b.kill()
        a.result("queue.send", {"to": "bob@test", "text": "after the crash"})
        failed = wait_until(lambda: self.events(a, "queue.message.failed"), what="failed event")
        self.assertFalse(failed[-1]["final"])
        self.assertEqual(failed[-1]["text"], "after the crash")
        q = self.queue(a)
        self.assertEqual(len(q), 1)
        self.assertEqual(q[0]["state"], "queued")
        self.assertIn("no answer", q[0]["error"])
        self.assertGreaterEqual(q[0]["attempts"], 1)
        self.start(b)
        wait_until(lambda: "after the crash" in self.inbox(b), timeout=20,
                   what="retried after bob came back")
        wait_until(lambda: self.queue(a) == [], what="queue empty")
        self.assertEqual(self.inbox(b).count("after the crash"), 1)

        for d in (a, b):
            self.assert_clean_exit(d)

    def test_several_recipients_start_at_different_times(self):
        a = self.node("alice")
        b = self.node("bob")
        c = self.node("carol")
        for k in ("bob@test", "carol@test"):
            self.wait_status(a, k, "online")
        self.assert_clean_exit(b)
        self.assert_clean_exit(c)
        self.wait_status(a, "bob@test", "offline")
        self.wait_status(a, "carol@test", "offline")
        r = a.result("queue.send", {"to": ["Bob", "carol@test", "bob@test"], "text": "to both"})
        self.assertEqual(sorted(m["to"] for m in r["messages"]), ["bob@test", "carol@test"])
        a.result("queue.send", {"to": "Carol", "text": "carol only", "seal": True})
        self.assertEqual(len(self.queue(a)), 3)
        queued = self.events(a, "queue.message.queued")
        self.assertEqual(len(queued), 3)

        self.start(c)  # carol first: only her messages go
        wait_until(lambda: len(self.inbox(c)) == 2, what="carol's messages")
        self.assertEqual(self.inbox(c)[0], "to both")
        sealed = c.result("chat.inbox")["messages"][1]
        self.assertTrue(sealed["sealed"])
        q = self.queue(a)
        self.assertEqual([(m["to"], m["text"]) for m in q], [("bob@test", "to both")])
        self.start(b)
        wait_until(lambda: self.inbox(b) == ["to both"], what="bob's message")
        wait_until(lambda: self.queue(a) == [], what="queue empty")
        r = a.cli("--json", "queue", "list", "--all")
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(sorted(m["state"] for m in json.loads(r.out)), ["delivered"] * 3)
        r = a.cli("queue")
        self.assertIn("the queue is empty", r.out)
        for h in (["queue"], ["queue", "list"], ["queue", "send"], ["queue", "discard"]):
            r = a.cli(*h, "--help")
            self.assertEqual(r.rc, 0, r)
            self.assertIn("Calls queue.", r.out)
        for d in (a, b, c):
            self.assert_clean_exit(d)


if __name__ == "__main__":
    unittest.main()
