"""End-to-end tests of the history plugin: two real dengond processes on
127.0.0.2-3 running ipmsg + history (loaded from <build>/lib/dengon/plugins),
messages both ways (Japanese, emoji, 8 KB+, sealed, failed), then the real
`dengon log` CLI, export, restart and retention.

All traffic stays on 127.0.0.x: daemons bound to a loopback address send no
broadcasts, and the host lists name loopback addresses only. The port differs
from the ipmsg test's so that both can run at the same time.
"""
import json
import os
import time
import unittest

from dgtest import BUILD_DIR, DaemonTestCase, free_port, wait_until

# Free on every address this test binds: another run of the suite on the same
# machine (another build tree) must not share the daemons' sockets.
PORT = free_port(("127.0.0.2", "127.0.0.3"))
PLUGINS = os.path.join(BUILD_DIR, "lib", "dengon", "plugins")

MEETING = "明日の会議は10時です"
TOKYO = "東京駅で会いましょう"
EMOJI = "了解です 🎉🍣"
ENGLISH = "Meeting notes for Friday"
BIG = "日本語の長いメッセージ🎌\r\n" * 300
SECRET = "秘密の話"


class HistoryTestCase(DaemonTestCase):
    def node(self, name, addr, peers, options=(), start=True):
        opts = [
            "ipmsg.bind_address=" + addr,
            "ipmsg.port=%d" % PORT,
            "identity.user=" + name,
            "identity.host=test",
            "ipmsg.hosts=" + ",".join("%s:%d" % (p, PORT) for p in peers),
            "ipmsg.announce_interval_s=0",
        ] + list(options)
        d = self.daemon(name, plugin_dirs=[PLUGINS], options=opts)
        os.makedirs(os.path.join(d.home, "config"), exist_ok=True)
        with open(os.path.join(d.home, "config", "dengon.ini"), "w") as f:
            f.write("[identity]\nnickname = %s\n" % name.capitalize())
        if start:
            self.start(d)
        return d

    def start(self, d):
        d.start()
        plugins = d.plugins()
        for p in ("ipmsg", "history"):
            self.assertEqual(plugins[p]["state"], "active", plugins)

    def cli(self, d, *args, **kw):
        r = d.cli(*args, **kw)
        self.assertNotIn("Sanitizer", r.err, r)
        self.assertNotIn("runtime error", r.err, r)
        return r

    def peers(self, d):
        """The live peer table of the chat transport (ipmsg.peers; users.list before it)."""
        for method in ("ipmsg.peers", "users.list"):
            resp = d.call(method)
            if "result" in resp:
                return resp["result"]
        raise AssertionError("no peer list method: %s" % resp)

    def wait_user(self, d, key):
        wait_until(lambda: any(u["key"] == key and u["status"] == "online"
                               for u in self.peers(d)), what=key + " online")

    def log(self, d, **params):
        return d.result("history.log", params)["messages"]

    def texts(self, messages):
        return [m.get("text") for m in messages]

    def wait_count(self, d, n):
        return wait_until(lambda: (lambda ms: ms if len(ms) >= n else None)(
            self.log(d, limit=1000)), what="%d messages in the history" % n)


class TestHistory(HistoryTestCase):
    def test_store_log_search_export_restart_retention(self):
        a = self.node("alice", "127.0.0.2", ["127.0.0.3"],
                      ["ipmsg.retry_interval_ms=150", "ipmsg.retries=2"])
        b = self.node("bob", "127.0.0.3", ["127.0.0.2"])
        self.wait_user(a, "bob@test")
        self.wait_user(b, "alice@test")

        # Both ways: Japanese, emoji, English, 8 KB+; acknowledged (wait=true).
        for sender, to, text in ((a, "bob@test", MEETING), (b, "alice@test", EMOJI),
                                 (a, "Bob", TOKYO), (a, "bob@test", BIG),
                                 (b, "Alice", ENGLISH)):
            r = sender.result("chat.send", {"to": to, "text": text, "wait": True})
            self.assertEqual(r["recipients"][0]["state"], "delivered", r)
        self.assertGreater(len(BIG.encode()), 8192)
        # Sealed: bob opens it with chat.read; alice's history records "opened".
        r = a.result("chat.send", {"to": "bob@test", "text": SECRET, "seal": True, "wait": True})
        sealed_id = r["id"]

        ha = self.wait_count(a, 6)
        hb = self.wait_count(b, 6)
        big = BIG.replace("\r\n", "\n")
        self.assertEqual(self.texts(ha), [MEETING, EMOJI, TOKYO, big, ENGLISH, SECRET])
        self.assertEqual([m["direction"] for m in ha], ["out", "in", "out", "out", "in", "out"])
        self.assertEqual([m["state"] for m in ha],
                         ["delivered", "received", "delivered", "delivered", "received",
                          "delivered"])
        self.assertEqual(ha[1]["from"], "bob@test")
        self.assertEqual(ha[1]["nickname"], "Bob")
        self.assertEqual(ha[0]["from"], "alice@test")
        self.assertEqual(ha[0]["to"], ["bob@test"])
        self.assertEqual(ha[0]["recipients"][0]["nickname"], "Bob")
        # Bob received the sealed message: stored, but its text is not shown until opened.
        self.assertEqual(self.texts(hb)[:5], [MEETING, EMOJI, TOKYO, big, ENGLISH])
        self.assertTrue(hb[5]["sealed"])
        self.assertNotIn("text", hb[5])
        self.assertFalse(hb[5]["opened"])
        inbox = b.result("chat.inbox")["messages"]
        b.result("chat.read", {"id": [m for m in inbox if m["sealed"]][0]["id"]})
        wait_until(lambda: self.log(a)[-1]["recipients"][0]["opened"], what="opened at alice")
        self.assertEqual(self.log(a)[-1]["msg_id"], sealed_id)
        # Bob read it (chat.message.read): his own history now shows the text too.
        wait_until(lambda: self.log(b)[5].get("text") == SECRET, what="sealed text after reading")

        # dengon log: a table, newest last.
        r = self.cli(a, "log", "--with", "Bob")
        self.assertEqual(r.rc, 0, r)
        lines = r.out.splitlines()
        self.assertEqual(lines[0].split(), ["ID", "TIME", "DIR", "PEER", "STATE", "TEXT"])
        self.assertEqual(len(lines), 7, r.out)
        self.assertIn(MEETING, lines[1])
        self.assertIn("out", lines[1].split())
        self.assertIn("Bob (bob@test)", lines[1])
        self.assertIn("delivered", lines[1])
        self.assertIn(EMOJI, lines[2])
        self.assertIn("received", lines[2])
        self.assertIn("delivered,opened", lines[6])
        self.assertIn("日本語の長いメッセージ🎌", lines[4])  # the first line of the big one
        self.assertNotIn("\n" + "日本語の長い", r.out)  # only its first line
        r = self.cli(b, "log")  # bob opened it above: the text is shown now
        self.assertIn(SECRET, r.out.splitlines()[6])
        self.assertIn("received,opened", r.out.splitlines()[6])
        # --json: the raw result; --with takes a key, a nickname or a logon name.
        for who in ("bob@test", "BOB", "bob"):
            r = self.cli(a, "log", "--with=" + who, json_out=True)
            self.assertEqual(r.rc, 0, r)
            self.assertEqual(len(r.json()["messages"]), 6, who)
            self.assertEqual(r.json()["peers"], ["bob@test"])
        r = self.cli(a, "log", "--with", "nobody")
        self.assertEqual((r.rc, r.out), (0, "no messages with 'nobody'\n"))

        # --search: Japanese (2 characters: the CJK pair index; 3+: trigrams), emoji, English.
        for d in (a, b):
            r = self.cli(d, "log", "--search", "会議", json_out=True)
            self.assertEqual(self.texts(r.json()["messages"]), [MEETING])
        r = self.cli(a, "log", "--search", "会議")
        self.assertEqual(r.rc, 0, r)
        self.assertIn(MEETING, r.out)
        self.assertEqual(len(r.out.splitlines()), 2)
        self.assertEqual(self.texts(self.cli(a, "log", "--search", "東京",
                                             json_out=True).json()["messages"]), [TOKYO])
        self.assertEqual(self.texts(a.result("history.search", {"text": "会議は10時"})["messages"]),
                         [MEETING])
        self.assertEqual(self.texts(a.result("history.search", {"text": "🎉"})["messages"]),
                         [EMOJI])
        self.assertEqual(self.texts(a.result("history.search", {"text": "meeting FRIDAY"})
                                    ["messages"]), [ENGLISH])
        self.assertEqual(self.texts(a.result("history.search", {"text": "長いメッセージ"})
                                    ["messages"]), [big])
        self.assertEqual(a.result("history.search", {"text": "大阪"})["messages"], [])
        # Bob opened the sealed message, so his search finds it now (an unopened one is
        # never found: unit.history_store covers that).
        self.assertEqual(self.texts(b.result("history.search", {"text": "秘密"})["messages"]),
                         [SECRET])
        self.assertEqual(self.texts(a.result("history.search", {"text": "秘密"})["messages"]),
                         [SECRET])
        r = self.cli(a, "log", "--search", "大阪")
        self.assertEqual(r.out, "no messages contain '大阪'\n")

        # --limit and paging with --before.
        r = self.cli(a, "log", "--limit", "2")
        self.assertEqual(len(r.out.splitlines()), 4, r.out)
        self.assertIn("(older messages: dengon log --before ", r.out)
        before = r.out.splitlines()[-1].split("--before ")[1].rstrip(")")
        r = self.cli(a, "log", "--before", before, json_out=True)
        self.assertEqual(self.texts(r.json()["messages"]), [MEETING, EMOJI, TOKYO, big])

        # Export: JSON array and text lines, to a file and in the answer.
        out_json = os.path.join(self.tmp, "alice.json")
        r = self.cli(a, "log", "export", "json", out_json)
        self.assertEqual(r.rc, 0, r)
        self.assertTrue(r.out.startswith("exported 6 messages to " + out_json), r.out)
        self.assertEqual(os.stat(out_json).st_mode & 0o777, 0o600)
        with open(out_json, encoding="utf-8") as f:
            exported = json.load(f)
        self.assertEqual(self.texts(exported), [MEETING, EMOJI, TOKYO, big, ENGLISH, SECRET])
        r = self.cli(a, "log", "export", "json", out_json)
        self.assertEqual(r.rc, 1, r)
        self.assertIn("already exists", r.err)
        r = self.cli(a, "log", "export", "text", out_json, "--force")
        self.assertEqual(r.rc, 0, r)
        with open(out_json, encoding="utf-8") as f:
            lines = f.read().splitlines()
        self.assertEqual(len(lines), 6)
        self.assertRegex(lines[0], r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4} alice@test → "
                                   r"bob@test: " + MEETING + "$")
        self.assertTrue(lines[1].endswith("bob@test → alice@test: " + EMOJI), lines[1])
        self.assertTrue(lines[3].endswith(": " + big.replace("\n", "\\n")), lines[3][:100])
        r = self.cli(b, "log", "export", "text", "--with", "alice")
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(len(r.out.splitlines()), 6)
        self.assertTrue(r.out.splitlines()[-1].endswith(": " + SECRET), r.out)  # opened above
        r = self.cli(a, "log", "export", "json", json_out=True)
        self.assertEqual(r.json()["count"], 6)
        # A plain name goes to the plugin's exports folder; relative and ".." paths are refused.
        res = a.result("history.export", {"format": "json", "path": "mine.json"})
        self.assertEqual(res["path"], os.path.join(a.home, "data", "plugin-data", "history",
                                                   "exports", "mine.json"))
        self.assertTrue(os.path.isfile(res["path"]))
        for path, why in (("sub/x.json", "must be absolute"), ("/tmp/../x.json", "'..'"),
                          ("..", "'..'")):
            resp = a.call("history.export", {"format": "json", "path": path})
            self.assertIn(why, resp["error"]["message"], path)
        resp = a.call("history.export", {"format": "csv"})
        self.assertIn("json", resp["error"]["message"])

        # Failed delivery: bob is gone; alice's history says failed, with the reason.
        b.kill()
        r = a.result("chat.send", {"to": "bob@test", "text": "まだいますか?", "wait": True})
        self.assertEqual(r["recipients"][0]["state"], "failed", r)
        last = wait_until(lambda: (lambda m: m if m["state"] == "failed" else None)(
            self.log(a)[-1]), what="failed state")
        self.assertIn("no answer", last["recipients"][0]["reason"])
        self.assertIn("failed", self.cli(a, "log", "--limit", "1").out)

        # A restart keeps everything.
        self.assert_clean_exit(a)
        self.start(a)
        ha = self.log(a, limit=1000)
        self.assertEqual(len(ha), 7)
        self.assertEqual(ha[-1]["state"], "failed")
        self.assertTrue(ha[5]["recipients"][0]["opened"])
        stats = a.result("history.stats")
        self.assertEqual((stats["messages"], stats["sent"], stats["received"]), (7, 5, 2))
        self.assertEqual(stats["schema_version"], 4)
        self.assertIn("retention", self.cli(a, "log", "stats").out)

        # Retention: nothing is deleted with delete_days 0; aged by 10 days, 7 deletes all.
        r = self.cli(a, "log", "prune")
        self.assertEqual(r.rc, 0, r)
        self.assertIn("nothing deleted", r.out)
        self.assertEqual(a.result("history.delete_old", {"days": 7})["deleted"], 0)
        if not stats["testing_build"]:
            self.skipTest("history.delete_old {now} needs a DENGON_TESTING_BUILD")
        now = int(time.time())
        res = a.result("history.delete_old", {"days": 7, "now": now + 6 * 86400})
        self.assertEqual(res["deleted"], 0)
        a.result("config.set", {"key": "history.delete_days", "value": "7"})
        res = a.result("history.delete_old", {"now": now + 10 * 86400})
        self.assertEqual((res["deleted"], res["days"]), (7, 7))
        self.assertEqual(self.log(a), [])
        self.assertEqual(a.result("history.search", {"text": "会議"})["messages"], [])
        self.assertEqual(a.result("history.stats")["messages"], 0)
        self.assert_clean_exit(a)

    def test_cli_usage(self):
        a = self.node("alice", "127.0.0.2", ["127.0.0.3"])
        for args, what in ((["log", "--limit", "abc"], "--limit needs a number"),
                           (["log", "--limit", "0"], "--limit needs a number"),
                           (["log", "--before", "-1"], "--before needs a message id"),
                           (["log", "--with"], "needs a value"),
                           (["log", "--seal"], "no option '--seal'"),
                           (["log", "extra"], "takes fewer arguments"),
                           (["log", "export", "csv"], "FORMAT must be json or text"),
                           (["log", "prune", "x"], "DAYS must be")):
            r = self.cli(a, *args)
            self.assertEqual(r.rc, 2, (args, r))
            self.assertIn(what, r.err, args)
        for cmd in (["log"], ["log", "export"], ["log", "stats"], ["log", "prune"]):
            r = self.cli(a, *cmd, "--help")
            self.assertEqual(r.rc, 0, r)
            self.assertIn("Calls history.", r.out)
        self.assertIn("log [--with USER] [--search TEXT] [--limit N] [--before ID]",
                      self.cli(a, "--help").out)
        # Bad params over RPC: a clear error, nothing changed.
        for params, what in (({"limit": 0}, "'limit'"), ({"with": ""}, "'with'"),
                             ({"colour": 1}, "unknown parameter")):
            self.assertIn(what, a.call("history.log", params)["error"]["message"])
        self.assertIn("required", a.call("history.search", {})["error"]["message"])
        self.assertIn("nothing to search", a.call("history.search", {"text": " 　"})
                      ["error"]["message"])
        self.assertEqual(self.cli(a, "log").out, "no messages in the history\n")
        self.assert_clean_exit(a)


if __name__ == "__main__":
    unittest.main()
