"""End-to-end tests of the users plugin (the user directory, ADR 0009): real
dengond processes on 127.0.0.2-4 with the ipmsg and users plugins from the
build's lib/dengon/plugins, talking IP Messenger over static host lists.

Covered: the list survives a restart (offline users kept in users.sqlite),
priority order and hiding from the CLI, low -> medium after the first
exchange (sent and received), the same identity on a new PC merged with no
ghost (live, and after the observer restarted), expiry after
users.offline_days at start, on a config change and by the daily upkeep
(with the test-only clock users.test_clock), and clear errors for bad input.

All traffic stays on 127.0.0.x: daemons bound to a loopback address send no
broadcasts, and every host list names loopback addresses only.
"""
import os
import shutil
import sqlite3
import time
import unittest

from dgtest import BUILD_DIR, DaemonTestCase, free_port, wait_until

# Free on every address this test binds: another run of the suite on the same
# machine (another build tree) must not share the daemons' sockets.
PORT = free_port(("127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.9"))
PLUGINS = os.path.join(BUILD_DIR, "lib", "dengon", "plugins")
RECORDER = os.path.join(BUILD_DIR, "tests", "users-plugins")  # userrec: users.changed
DAY = 86400


class UsersTestCase(DaemonTestCase):
    def node(self, name, addr, peers=(), host="test", group="", user=None, uuid_from=None,
             ini="", options=(), start=True):
        """A daemon with identity user@host; uuid_from: another node whose identity it takes."""
        opts = [
            "ipmsg.bind_address=" + addr,
            "ipmsg.port=%d" % PORT,
            "identity.user=" + (user or name),
            "identity.host=" + host,
            "identity.group=" + group,
            "ipmsg.hosts=" + ",".join("%s:%d" % (p, PORT) for p in peers),
            "ipmsg.announce_interval_s=0",
        ] + list(options)
        d = self.daemon(name, plugin_dirs=[PLUGINS, RECORDER], options=opts)
        os.makedirs(os.path.join(d.home, "config"), exist_ok=True)
        with open(os.path.join(d.home, "config", "dengon.ini"), "w") as f:
            f.write("[identity]\nnickname = %s\n%s" % ((user or name).capitalize(), ini))
        if uuid_from:
            # "The same person on a new PC": the identity file copied from the old home.
            os.makedirs(os.path.join(d.home, "data"), mode=0o700, exist_ok=True)
            shutil.copy2(os.path.join(uuid_from.home, "data", "identity.uuid"),
                         os.path.join(d.home, "data", "identity.uuid"))
        if start:
            self.start(d)
        return d

    def start(self, d):
        d.start()
        plugins = d.plugins()
        self.assertEqual(plugins["ipmsg"]["state"], "active", plugins)
        self.assertEqual(plugins["users"]["state"], "active", plugins)
        return d

    def listed(self, d, **params):
        return d.result("users.list", params or None)

    def keys(self, d, **params):
        return [u["key"] for u in self.listed(d, **params)]

    def user(self, d, key):
        got = [u for u in self.listed(d, all=True) if u["key"] == key]
        return got[0] if got else None

    def wait_listed(self, d, key, status="online"):
        return wait_until(lambda: (self.user(d, key) or {}).get("status") == status and
                          self.user(d, key), timeout=10, what="%s %s at %s" % (key, status, d.home))

    def changes(self, d, key=None):
        """users.changed payloads seen by d (recorded by the test plugin userrec)."""
        return [(e["change"], e["key"]) + ((e["merged_from"],) if "merged_from" in e else ())
                for e in d.result("userrec.events") if key is None or e["key"] == key]

    def db(self, d):
        return os.path.join(d.home, "data", "plugin-data", "users", "users.sqlite")

    def cli(self, d, *args, **kw):
        r = d.cli(*args, **kw)
        self.assertNotIn("Sanitizer", r.err, r)
        self.assertNotIn("runtime error", r.err, r)
        return r


class TestDirectory(UsersTestCase):
    def test_order_hiding_exchange_restart(self):
        a = self.node("alice", "127.0.0.2", ["127.0.0.3", "127.0.0.4"])
        b = self.node("bob", "127.0.0.3", ["127.0.0.2", "127.0.0.4"], group="Dev")
        c = self.node("carol", "127.0.0.4", ["127.0.0.2", "127.0.0.3"], group="dev")
        bob = self.wait_listed(a, "bob@test")
        self.wait_listed(a, "carol@test")
        self.wait_listed(b, "alice@test")
        self.wait_listed(b, "carol@test")  # used at bob below
        self.assertEqual(bob["nickname"], "Bob")
        self.assertEqual(bob["priority"], "medium")
        self.assertFalse(bob["hidden"])
        self.assertEqual(len(bob["uuid"]), 36)
        self.assertIn("utf8", bob["capabilities"])
        self.assertEqual(bob["addresses"], ["127.0.0.3:%d" % PORT])
        first_seen = bob["first_seen"]

        # Same priority and group (case-insensitive): by name. Then priority first.
        self.assertEqual(self.keys(a), ["bob@test", "carol@test"])
        r = self.cli(a, "priority", "Carol", "high")
        self.assertEqual((r.rc, r.out), (0, "Carol (carol@test): high\n"), r)
        self.assertEqual(self.keys(a), ["carol@test", "bob@test"])
        self.assertEqual(self.changes(a, "carol@test"), [("new", "carol@test"),
                                                         ("priority", "carol@test")])
        r = self.cli(a, "users", json_out=True)
        self.assertEqual([u["key"] for u in r.json()], ["carol@test", "bob@test"])
        r = self.cli(a, "users")
        self.assertEqual(r.rc, 0, r)
        rows = [line.split() for line in r.out.splitlines()]
        self.assertEqual(rows[0], ["NICKNAME", "GROUP", "STATUS", "PRIORITY", "KEY", "ADDRESS"])
        self.assertEqual(rows[1], ["Carol", "dev", "online", "high", "carol@test",
                                   "127.0.0.4:%d" % PORT])
        self.assertEqual(rows[2][:5], ["Bob", "Dev", "online", "medium", "bob@test"])

        # Hidden: out of the list, shown by --all (and hidden/all params), restored by a level.
        r = self.cli(a, "priority", "127.0.0.3", "hidden")
        self.assertEqual(r.rc, 0, r)
        self.assertIn("Bob (bob@test): hidden", r.out)
        self.assertEqual(self.keys(a), ["carol@test"])
        self.assertEqual(self.keys(a, online=True), ["carol@test"])
        self.assertEqual(self.keys(a, hidden=True), ["carol@test", "bob@test"])
        self.assertEqual(self.keys(a, all=True), ["carol@test", "bob@test"])
        self.assertNotIn("bob@test", self.cli(a, "users").out)
        row = [line.split() for line in self.cli(a, "users", "--all").out.splitlines()
               if "bob@test" in line]
        self.assertEqual(row[0][3], "hidden")
        got = a.result("users.get", {"user": "Bob"})
        self.assertTrue(got["hidden"])
        self.assertEqual(got["priority"], "medium")  # the level is kept while hidden
        r = self.cli(a, "priority", "bob@test", "low")
        self.assertEqual((r.rc, r.out), (0, "Bob (bob@test): low\n"), r)
        self.assertEqual(self.keys(a), ["carol@test", "bob@test"])

        # First exchange: a low user becomes medium, on the sender's side...
        r = a.result("chat.send", {"to": "Bob", "text": "hello", "wait": True})
        self.assertEqual(r["recipients"][0]["state"], "delivered", r)
        bob = wait_until(lambda: self.user(a, "bob@test")["priority"] == "medium" and
                         self.user(a, "bob@test"), what="bob promoted at alice")
        self.assertGreater(bob.get("first_exchange", 0), 0)
        self.assertIn(("promoted", "bob@test"), self.changes(a))
        # ...and on the receiver's side (chat.message.received).
        b.result("users.priority", {"user": "carol@test", "level": "low"})
        self.assertEqual(self.user(b, "carol@test")["priority"], "low")
        # Carol's daemon must know Bob before she can name him (presence may still be on its way).
        wait_until(lambda: any(p["key"] == "bob@test" for p in c.result("ipmsg.peers")),
                   what="bob known at carol")
        c.result("chat.send", {"to": "bob@test", "text": "hi bob", "wait": True})
        wait_until(lambda: self.user(b, "carol@test")["priority"] == "medium",
                   what="carol promoted at bob (received)")
        # Only the first exchange promotes: set low again, it stays low.
        a.result("users.priority", {"user": "bob@test", "level": "low"})
        a.result("chat.send", {"to": "bob@test", "text": "third", "wait": True})
        time.sleep(0.3)
        self.assertEqual(self.user(a, "bob@test")["priority"], "low")
        a.result("users.priority", {"user": "bob@test", "level": "medium"})

        # Carol leaves (BR_EXIT): offline, out of the online list, still kept.
        self.assert_clean_exit(c)
        self.wait_listed(a, "carol@test", "offline")
        self.assertEqual(self.keys(a, online=True), ["bob@test"])
        self.assertEqual(self.keys(a), ["carol@test", "bob@test"])

        # Restart: the list comes back from users.sqlite, everyone offline until seen.
        self.assert_clean_exit(a)
        with sqlite3.connect(self.db(a)) as con:
            self.assertEqual(con.execute("PRAGMA journal_mode").fetchone()[0], "wal")
            self.assertEqual(con.execute("PRAGMA user_version").fetchone()[0], 1)
            rows = dict(con.execute("SELECT key, priority FROM users").fetchall())
        con.close()
        self.assertEqual(rows, {"bob@test": "medium", "carol@test": "high"})
        self.start(a)
        carol = self.user(a, "carol@test")
        self.assertEqual((carol["status"], carol["priority"]), ("offline", "high"))
        bob = self.wait_listed(a, "bob@test")  # bob answers alice's BR_ENTRY
        self.assertEqual(bob["first_seen"], first_seen)
        self.assertGreater(bob["first_exchange"], 0)
        self.assertEqual(self.keys(a, online=True), ["bob@test"])
        r = self.cli(a, "users", "--all")
        self.assertIn("offline", r.out)
        self.assertIn("carol@test", r.out)

        # Forget: gone now (and from the file).
        r = self.cli(a, "forget", "carol@test")
        self.assertEqual((r.rc, r.out), (0, "forgot Carol (carol@test)\n"), r)
        self.assertEqual(self.keys(a, all=True), ["bob@test"])
        self.assertEqual(self.changes(a, "carol@test")[-1], ("forgotten", "carol@test"))
        self.assert_clean_exit(a)
        self.assert_clean_exit(b)
        with sqlite3.connect(self.db(a)) as con:
            self.assertEqual([k for (k,) in con.execute("SELECT key FROM users")], ["bob@test"])
        con.close()

    def test_bad_requests(self):
        a = self.node("alice", "127.0.0.2", ["127.0.0.3"])
        b = self.node("bob", "127.0.0.3", ["127.0.0.2"])
        self.wait_listed(a, "bob@test")
        for method, params, what in (
                ("users.list", {"online": True, "all": True}, "exclude each other"),
                ("users.list", {"colour": 1}, "unknown parameter 'colour'"),
                ("users.list", {"online": "maybe"}, "true or false"),
                ("users.list", [1], "must be an object"),
                ("users.get", {}, "'user' must be"),
                ("users.get", {"user": "nobody"}, "unknown user 'nobody'"),
                ("users.get", {"user": "127.0.0.9"}, "nobody known at 127.0.0.9"),
                ("users.priority", {"user": "bob@test"}, "'level' must be"),
                ("users.priority", {"user": "bob@test", "level": "urgent"}, "not 'urgent'"),
                ("users.forget", {"user": ""}, "'user' must be")):
            resp = a.call(method, params)
            self.assertIn("error", resp, (method, params))
            self.assertIn(what, resp["error"]["message"], (method, params))
        # Nothing was changed by the refused calls.
        bob = self.user(a, "bob@test")
        self.assertEqual((bob["priority"], bob["hidden"]), ("medium", False))
        r = self.cli(a, "priority", "bob@test", "urgent")
        self.assertEqual(r.rc, 1, r)
        self.assertIn("highest, high, medium, low or hidden", r.err)
        self.assertEqual(self.cli(a, "priority", "bob@test").rc, 2)
        for cmd in (["priority"], ["forget"], ["users"]):
            h = self.cli(a, *cmd, "--help")
            self.assertEqual(h.rc, 0, h)
            self.assertIn("Calls users.", h.out)
        # The transport's own live table moved to ipmsg.peers / ipmsg.peer.
        self.assertIn("bob@test", [u["key"] for u in a.result("ipmsg.peers")])
        self.assertEqual(a.result("ipmsg.peer", {"user": "Bob"})["key"], "bob@test")
        self.assert_clean_exit(a)
        self.assert_clean_exit(b)

    def test_refuses_a_newer_file_and_keeps_it(self):
        a = self.node("alice", "127.0.0.2")
        self.assert_clean_exit(a)
        with sqlite3.connect(self.db(a)) as con:
            con.execute("PRAGMA user_version = 99")
        con.close()
        a.start()
        p = a.plugins()["users"]
        self.assertEqual(p["state"], "start_failed", p)
        self.assertEqual(a.plugins()["ipmsg"]["state"], "active")
        self.assertIn("schema version 99 is newer", a.log_text())
        self.assertEqual(a.call("users.list")["error"]["code"], -32601)
        self.assert_clean_exit(a)
        with sqlite3.connect(self.db(a)) as con:
            self.assertEqual(con.execute("PRAGMA user_version").fetchone()[0], 99)
        con.close()


class TestSamePersonNewPc(UsersTestCase):
    def test_merged_without_ghost(self):
        a = self.node("alice", "127.0.0.2", ["127.0.0.3", "127.0.0.4"])
        old = self.node("bob-old", "127.0.0.3", ["127.0.0.2"], user="bob", host="oldpc")
        bob = self.wait_listed(a, "bob@oldpc")
        a.result("users.priority", {"user": "bob@oldpc", "level": "highest"})
        a.result("chat.send", {"to": "bob@oldpc", "text": "before the move", "wait": True})
        first_seen, uuid = bob["first_seen"], bob["uuid"]
        self.assert_clean_exit(old)
        self.wait_listed(a, "bob@oldpc", "offline")

        # New PC, same home identity: one entry, the old one's priority and history kept.
        new = self.node("bob-new", "127.0.0.4", ["127.0.0.2"], user="bob", host="newpc",
                        uuid_from=old)
        self.assertEqual(new.result("core.whoami")["uuid"], uuid)
        moved = self.wait_listed(a, "bob@newpc")
        self.assertEqual(self.keys(a, all=True), ["bob@newpc"])
        self.assertEqual(moved["uuid"], uuid)
        self.assertEqual(moved["priority"], "highest")
        self.assertEqual(moved["first_seen"], first_seen)
        self.assertGreater(moved["first_exchange"], 0)
        self.assertEqual(moved["addresses"], ["127.0.0.4:%d" % PORT])
        self.assertIn("bob@oldpc is now bob@newpc", a.log_text())
        self.assertIn(("merged", "bob@newpc", "bob@oldpc"), self.changes(a))
        self.assert_clean_exit(new)

        # Again after alice restarted: the transport has no memory of bob any more, the
        # directory merges by the UUID it kept on disk.
        self.assert_clean_exit(a)
        self.start(a)
        third = self.node("bob-third", "127.0.0.3", ["127.0.0.2"], user="bob", host="thirdpc",
                          uuid_from=old)
        got = self.wait_listed(a, "bob@thirdpc")
        self.assertEqual(self.keys(a, all=True), ["bob@thirdpc"])
        self.assertEqual((got["priority"], got["first_seen"]), ("highest", first_seen))
        self.assertEqual(self.changes(a), [("merged", "bob@thirdpc", "bob@newpc")])
        self.assert_clean_exit(a)
        self.assert_clean_exit(third)
        with sqlite3.connect(self.db(a)) as con:
            rows = con.execute("SELECT key, uuid, priority FROM users").fetchall()
        con.close()
        self.assertEqual(rows, [("bob@thirdpc", uuid, "highest")])


class TestExpiry(UsersTestCase):
    def test_offline_days(self):
        a = self.node("alice", "127.0.0.2", ["127.0.0.3", "127.0.0.4"],
                      ini="[users]\noffline_days = 10\n")
        if "users.test_clock" not in [m["method"] for m in a.result("core.methods")]:
            self.skipTest("not a DENGON_TESTING_BUILD build: users.test_clock is absent")
        b = self.node("bob", "127.0.0.3", ["127.0.0.2"])
        c = self.node("carol", "127.0.0.4", ["127.0.0.2"])
        self.wait_listed(a, "bob@test")
        self.wait_listed(a, "carol@test")
        self.assert_clean_exit(b)
        self.wait_listed(a, "bob@test", "offline")
        now = int(time.time())

        # The daily upkeep on a moved clock: bob (offline) goes after 10 days, not before;
        # carol, still online, stays whatever the date.
        r = a.result("users.test_clock", {"now": now + 9 * DAY})
        self.assertEqual(r["expired"], [])
        self.assertEqual(self.keys(a, all=True), ["bob@test", "carol@test"])
        r = a.result("users.test_clock", {"now": now + 11 * DAY})
        self.assertEqual(r["expired"], ["bob@test"])
        self.assertEqual(self.keys(a, all=True), ["carol@test"])
        self.assertIn("bob@test removed: not seen for 10 days", a.log_text())
        self.assertEqual(self.changes(a, "bob@test")[-1], ("expired", "bob@test"))
        r = a.result("users.test_clock", {"now": now + 40 * DAY})
        self.assertEqual(r["expired"], [])
        self.assertEqual(self.keys(a, all=True), ["carol@test"])
        a.result("users.test_clock", {"now": now})

        # At start: entries older than users.offline_days are removed before anyone answers.
        self.assert_clean_exit(c)
        self.wait_listed(a, "carol@test", "offline")
        self.assert_clean_exit(a)
        with sqlite3.connect(self.db(a)) as con:
            con.execute("UPDATE users SET last_seen = ? WHERE key = 'carol@test'",
                        (now - 12 * DAY,))
            con.execute("INSERT INTO users (key, user, host, nickname, first_seen, last_seen) "
                        "VALUES ('dave@test', 'dave', 'test', 'Dave', ?, ?)",
                        (now - 30 * DAY, now - 8 * DAY))
        con.close()
        self.start(a)
        self.assertEqual(self.keys(a, all=True), ["dave@test"])
        self.assertIn("carol@test removed: not seen for 10 days", a.log_text())

        # A shorter limit applies at once (the key is live).
        r = self.cli(a, "config", "set", "users.offline_days", "7")
        self.assertEqual(r.rc, 0, r)
        wait_until(lambda: self.keys(a, all=True) == [], what="dave removed at 7 days")
        # 0 keeps users forever.
        self.assertEqual(self.cli(a, "config", "set", "users.offline_days", "0").rc, 0)
        d = self.node("dave", "127.0.0.3", ["127.0.0.2"])
        self.wait_listed(a, "dave@test")
        self.assert_clean_exit(d)
        self.wait_listed(a, "dave@test", "offline")
        r = a.result("users.test_clock", {"now": now + 3650 * DAY})
        self.assertEqual(r["expired"], [])
        self.assertEqual(self.keys(a, all=True), ["dave@test"])
        self.assert_clean_exit(a)


if __name__ == "__main__":
    unittest.main()
